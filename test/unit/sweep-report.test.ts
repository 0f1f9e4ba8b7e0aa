/**
 * Big sweeps after the sweep (issue 14): every step from results to written report is linear,
 * the text and Markdown reports summarise a big line nmap-style (counts, then only the
 * exceptions), and the JSON report stays complete, compact above JSON_PRETTY_MAX_PROBES, and is
 * produced in bounded chunks that the atomic writer streams to its file.
 *
 * Linearity is checked structurally: the whole post-sweep path runs on 65,534 results of one line.
 * One per-result copy of a growing array (`[...list, r]`, the bug issue 14 found) costs ~50 s at
 * that size on these machines, far past the test's timeout; the linear path takes a second or two.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RENDERERS } from '../../src/report/index.js';
import { JSON_PRETTY_MAX_PROBES, jsonLayout, jsonReportChunks } from '../../src/report/json-stream.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { reportsToPrometheusText } from '../../src/report/prometheus.js';
import { redactReport } from '../../src/report/redact.js';
import { SWEEP_EXCEPTIONS_SHOWN, SWEEP_SUMMARY_MIN_PROBES } from '../../src/report/sweep-summary.js';
import { renderText } from '../../src/report/text.js';
import type { Report, Status } from '../../src/types.js';
import { writeChunksAtomic } from '../../src/util/atomic.js';
import { sweepPlan, sweepReport } from '../helpers/sweep.js';
import { needTools } from '../helpers/tools.js';

/** 1 in 8 addresses listening, the rest refused: the bench's loopback shape. */
const oneInEight = (i: number): Status => (i % 8 === 2 ? 'ok' : 'refused');

describe('a 65,534-probe sweep after the sweep', () => {
  it('builds, renders, redacts and exports its report in one pass per step', async () => {
    const plan = sweepPlan(['127.64.0.0/16']);
    expect(plan.probes).toHaveLength(65_534);
    const report = sweepReport(plan, oneInEight);
    expect(report.lines[0]!.counts).toEqual({ ok: 8192, refused: 57_342 });
    expect(report.summary.probes).toBe(65_534);

    const text = renderText(report, { color: false });
    expect(text).toContain('65,534 probes: 57,342 refused, 8,192 ok:');
    expect(renderMarkdown(report)).toContain('65,534 probes: 57,342 refused, 8,192 ok');
    expect(JSON.parse([...jsonReportChunks(report)].join(''))).toEqual(JSON.parse(JSON.stringify(report)));
    for (const fmt of ['html', 'junit']) expect(RENDERERS[fmt]!(report, { color: false }).length).toBeGreaterThan(0);
    const redacted = redactReport(report);
    // Loopback addresses are internal: every one masked, each to its own stable token.
    expect(redacted.probes[0]!.host).toMatch(/^internal-ipv4-\d+$/);
    expect(new Set(redacted.probes.map((p) => p.host)).size).toBe(65_534);
    const metrics = await reportsToPrometheusText([report]);
    expect(metrics).toContain('netcheck_line_probes{catalog="sweep",line="r0",status="refused"} 57342');
  }, 60_000);
});

describe('text and Markdown: big lines summarised nmap-style', () => {
  // 4,094 probes: 4,088 refused, 5 ok, 1 filtered.
  const statusOf = (i: number): Status => (i === 7 ? 'filtered' : i % 1000 === 2 ? 'ok' : 'refused');
  const plan = sweepPlan(['127.64.0.0/20']);
  const report = sweepReport(plan, statusOf);
  const ok = plan.probes.filter((_, i) => statusOf(i) === 'ok').map((p) => `${p.host}:9000`);
  const filtered = `${plan.probes[7]!.host}:9000`;

  it('text: counts per status, then only the probes that differ from the most common one', () => {
    const text = renderText(report, { color: false });
    expect(text).toContain('      4,094 probes: 4,088 refused, 5 ok, 1 filtered:\n');
    const listed = text.split('\n').filter((l) => /^ {8}tcp /.test(l));
    // The rarest group first: the filtered probe, then the five that connected; no refused one.
    expect(listed.map((l) => l.trim().split(/\s+/)[1])).toEqual([filtered, ...ok]);
    expect(listed.join('\n')).not.toContain('refused');
    expect(text).not.toContain('… ');
  });

  it(`text: at most ${SWEEP_EXCEPTIONS_SHOWN} exceptions of one status and reason, then how many more`, () => {
    const half = sweepReport(sweepPlan(['127.64.0.0/24']), (i) => (i % 2 ? 'filtered' : 'ok'));
    const text = renderText(half, { color: false });
    expect(text).toContain('254 probes: 127 ok, 127 filtered:');
    expect(text.split('\n').filter((l) => /^ {8}tcp .* filtered SYN_TIMEOUT/.test(l))).toHaveLength(SWEEP_EXCEPTIONS_SHOWN);
    expect(text).toContain(`… and ${127 - SWEEP_EXCEPTIONS_SHOWN} more filtered (SYN_TIMEOUT)`);
    expect(text).toContain('(--json lists every probe)');
  });

  it('text: --verbose still lists every probe, after the counts', () => {
    const text = renderText(report, { color: false, verbose: true });
    expect(text).toContain('4,094 probes: 4,088 refused, 5 ok, 1 filtered:');
    expect(text.split('\n').filter((l) => /^ {6}tcp /.test(l))).toHaveLength(4094);
  });

  it(`text: a line under ${SWEEP_SUMMARY_MIN_PROBES} probes lists its failing probes as before`, () => {
    const small = sweepReport(sweepPlan(['127.64.0.0/27']), (i) => (i < 3 ? 'filtered' : 'ok'));
    expect(small.probes).toHaveLength(30);
    const text = renderText(small, { color: false });
    expect(text).not.toMatch(/\d+ probes: /);
    expect(text.split('\n').filter((l) => /^ {6}tcp .* filtered/.test(l))).toHaveLength(3);
  });

  it('Markdown: a Sweeps section with the counts and a table of the exceptions; the per-probe table keeps the other lines', () => {
    const mixed = sweepReport(sweepPlan(['127.64.0.0/20', '10.9.9.0/30']), (i) => (i >= 4094 ? 'refused' : statusOf(i)));
    const md = renderMarkdown(mixed);
    expect(md).toContain('## Sweeps');
    expect(md).toContain('- `r0` tcp 127.64.0.0/20:9000: 4,094 probes: 4,088 refused, 5 ok, 1 filtered');
    const sweepRows = md.split('\n').filter((l) => /^ {2}\| tcp /.test(l));
    expect(sweepRows.map((l) => l.split('|')[1]!.trim())).toEqual([`tcp ${filtered}`, ...ok.map((o) => `tcp ${o}`)]);
    // The small line's refused probes are in the usual table; none of the sweep's 4,088 refusals are.
    const from = md.indexOf('## Probes that did not pass');
    const table = md.slice(from, md.indexOf('\n## ', from + 1));
    expect(table.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(2);
    expect(table).not.toContain('127.64.');
    // The fix list asks for the documented range, not for its 4,088 refused addresses one by one.
    const fix = md.slice(md.indexOf('## Ask your network team to allow'));
    expect(fix).toContain('`127.64.0.0/20`');
    expect(fix).not.toMatch(/127\.64\.\d+\.\d+`/);
  });
});

describe('JSON: complete, compact above a size, streamed in bounded chunks', () => {
  it(`up to ${JSON_PRETTY_MAX_PROBES} probes: indented exactly as JSON.stringify(report, null, 2)`, () => {
    const report = sweepReport(sweepPlan(['127.64.0.0/24']), oneInEight);
    expect(jsonLayout(report)).toBe('pretty');
    expect([...jsonReportChunks(report)].join('')).toBe(JSON.stringify(report, null, 2) + '\n');
    expect(RENDERERS.json!(report, { color: false })).toBe(JSON.stringify(report, null, 2) + '\n');
  });

  it('above: the same value, one probe per line, in chunks of bounded size', () => {
    const report = sweepReport(sweepPlan(['127.64.0.0/18']), oneInEight);
    // A field JSON leaves out must be left out here too.
    (report.probes[0] as unknown as Record<string, unknown>).sampledFrom = undefined;
    expect(jsonLayout(report)).toBe('compact');
    const chunks = [...jsonReportChunks(report)];
    const text = chunks.join('');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(report)));
    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('{"id":"r0/tcp/'))).toHaveLength(16_382);
    expect(lines.every((l) => !l.startsWith('  '))).toBe(true); // no indentation
    expect(text.length).toBeLessThan(JSON.stringify(report, null, 2).length * 0.8);
    // Bounded memory: many chunks, none much larger than the chunk size plus one probe.
    expect(chunks.length).toBeGreaterThan(20);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(70 * 1024);
  });

  it('the atomic writer streams the chunks to the file, and leaves no temporary file', () => {
    const report = sweepReport(sweepPlan(['127.64.0.0/20']), oneInEight);
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-json-stream-'));
    const file = join(dir, 'r.json');
    writeChunksAtomic(file, jsonReportChunks(report));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(readdirSync(dir)).toEqual(['r.json']);
  });

  const isRoot = process.getuid?.() === 0;
  if (!isRoot) console.warn('SKIPPED full-disk streaming test: needs root to mount a tiny tmpfs (CI runs as root)');
  const tools = isRoot ? needTools('full-disk streaming test', ['mount', 'umount']) : undefined;
  it.skipIf(!tools)('on a full disk (a real 64 KiB tmpfs) it fails with ENOSPC, keeps the previous report and removes its temporary file', (ctx) => {
    const mnt = mkdtempSync(join(tmpdir(), 'netcheck-stream-full-'));
    const m = spawnSync(tools!.mount, ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      console.warn(`SKIPPED full-disk streaming test: mount tmpfs failed: ${m.stderr}`);
      ctx.skip();
    }
    try {
      const dir = join(mnt, 'out');
      mkdirSync(dir);
      const file = join(dir, 'r.json');
      writeFileSync(file, '{"previous":true}\n');
      const report: Report = sweepReport(sweepPlan(['127.64.0.0/20']), oneInEight);
      expect(() => writeChunksAtomic(file, jsonReportChunks(report))).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
      expect(readFileSync(file, 'utf8')).toBe('{"previous":true}\n');
      expect(readdirSync(dir)).toEqual(['r.json']);
    } finally {
      spawnSync(tools!.umount, ['-l', mnt]);
    }
  });
});
