/**
 * The HTML report in a real headless Chromium (Debian's chromium, driven by playwright-core):
 * the table and the timeline render (DOM + pixels of a screenshot), and opening the file makes no
 * request besides the file itself.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import type { Report } from '../../src/types.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { needTools } from '../helpers/tools.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';

const CHROMIUM = needTools('report-html-chromium tests (the HTML report in a real headless Chromium)', ['chromium'])?.chromium;
const have = CHROMIUM !== undefined;

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Seen {
  requests: string[];
}

/** Open a file and record every request the page makes; anything but the file is aborted. */
async function open(browser: Browser, file: string, seen: Seen) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const self = pathToFileURL(file).href;
  page.on('request', (r) => seen.requests.push(r.url()));
  await context.route('**/*', (route) => (route.request().url() === self ? route.continue() : route.abort()));
  await page.goto(self, { waitUntil: 'load' });
  return { context, page };
}

/** Count pixels near each colour in a PNG, decoded by the browser itself. */
async function countColours(browser: Browser, png: Buffer, colours: Record<string, [number, number, number]>): Promise<Record<string, number>> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(
      async ({ b64, colours }) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        // Runs in the page: browser globals, which Node's types do not declare.
        const g = globalThis as any;
        const bmp = await g.createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const canvas = new g.OffscreenCanvas(bmp.width, bmp.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(bmp, 0, 0);
        const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
        const out: Record<string, number> = {};
        for (const [name, [r, g, b]] of Object.entries(colours)) {
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - r) < 12 && Math.abs(d[i + 1]! - g) < 12 && Math.abs(d[i + 2]! - b) < 12) n++;
          out[name] = n;
        }
        return out;
      },
      { b64: png.toString('base64'), colours },
    );
  } finally {
    await page.close();
  }
}

describe.skipIf(!have)('HTML report in headless Chromium', () => {
  let browser: Browser;
  let lab: LabServers;
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-html-'));

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: FLAGS, headless: true });
    lab = await startLabServers();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  it('renders the table and the timeline of a real run, with no request but the file', async () => {
    const file = join(dir, 'report.html');
    const json = join(dir, 'report.json');
    const r = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--output', file, '-q']);
    expect(r.code, r.stderr).toBe(1);
    const r2 = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--output', json, '-q']);
    expect(r2.code).toBe(1);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;

    const seen: Seen = { requests: [] };
    const { context, page } = await open(browser, file, seen);
    try {
      expect(seen.requests).toEqual([pathToFileURL(file).href]);

      // The table: one row per documented line, with the verdict the JSON report gives it.
      const rows = await page.$$eval('#lines tr.line', (trs) => trs.map((tr) => ({ line: tr.getAttribute('data-line'), verdict: tr.getAttribute('data-verdict'), text: (tr as unknown as { innerText: string }).innerText })));
      expect(rows.map((x) => x.line).sort()).toEqual(report.lines.map((l) => l.id).sort());
      for (const l of report.lines) expect(rows.find((x) => x.line === l.id)!.verdict).toBe(l.verdict);
      expect(rows.find((x) => x.line === 'signaling')!.text).toMatch(/FAIL/);
      expect(rows.find((x) => x.line === 'signaling')!.text).toContain('Allow outbound TCP');
      expect(await page.locator('#headline').innerText()).toContain('1 required line(s) failing');

      // The chart: a drawn bar per probe, laid out (non-zero boxes), slower probes wider.
      const bars = await page.$$eval('#timeline rect.bar', (rs) => rs.map((r) => ({ id: r.getAttribute('data-probe'), status: r.getAttribute('data-status'), w: r.getBoundingClientRect().width, h: r.getBoundingClientRect().height })));
      expect(bars).toHaveLength(report.probes.length);
      for (const b of bars) expect(b.w > 0 && b.h > 0, JSON.stringify(b)).toBe(true);
      const silent = bars.find((b) => b.status === 'open|filtered')!;
      const refused = bars.find((b) => b.status === 'refused')!;
      expect(silent.w).toBeGreaterThan(refused.w * 5); // 1 s of silence vs a few ms to a RST

      // Pixels: the screenshot of the chart shows the status colours.
      const shot = await page.locator('#timeline').screenshot();
      writeFileSync(join(dir, 'timeline.png'), shot);
      const px = await countColours(browser, shot, { ok: [0x2e, 0x7d, 0x32], refused: [0xc6, 0x28, 0x28], silent: [0x02, 0x77, 0xbd] });
      expect(px.ok, JSON.stringify(px)).toBeGreaterThan(5);
      expect(px.refused).toBeGreaterThan(5);
      expect(px.silent).toBeGreaterThan(100);
      const full = await page.screenshot({ fullPage: true });
      expect(full.subarray(1, 4).toString()).toBe('PNG');
      expect(seen.requests).toHaveLength(1);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('draws measured idle flows and lists unmeasured timers (fixed fixture)', async () => {
    const report = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/reports/report.json'), 'utf8')) as Report;
    const file = join(dir, 'fixture.html');
    writeFileSync(file, renderHtml(report));
    const seen: Seen = { requests: [] };
    const { context, page } = await open(browser, file, seen);
    try {
      const flows = await page.$$eval('#idle-chart circle.flow', (cs) => cs.map((c) => ({ survived: c.getAttribute('data-survived'), x: c.getBoundingClientRect().x })));
      expect(flows.map((f) => f.survived)).toEqual(['true', 'true', 'false', 'false', 'null']);
      // Longer gaps sit further right.
      expect(flows.map((f) => f.x)).toEqual([...flows.map((f) => f.x)].sort((a, b) => a - b));
      expect(await page.locator('#timer-table tr[data-timer="tcp-registration"]').innerText()).toContain('not measured');
      const png = await page.locator('#idle-chart').screenshot();
      const px = await countColours(browser, png, { survived: [0x2e, 0x7d, 0x32], lost: [0xc6, 0x28, 0x28] });
      expect(px.survived).toBeGreaterThan(50);
      expect(px.lost).toBeGreaterThan(50);
      expect(seen.requests).toEqual([pathToFileURL(file).href]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
