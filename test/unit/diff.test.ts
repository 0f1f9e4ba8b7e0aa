/**
 * `netcheck diff` (issue 16) on two real runs of the report lab: between them the signaling port
 * opens (fail → pass) and the web server stops (pass → fail), so the diff names both and exits 1;
 * two runs with nothing worse exit 0; reports of different catalogs are refused (exit 2).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDiff } from '../../src/report/diff.js';
import type { Report } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';


describe('netcheck diff', () => {
  let lab: LabServers;
  let opened: Server | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-diff-'));
  const before = join(dir, 'before.json');
  const after = join(dir, 'after.json');

  const run = async (file: string): Promise<void> => {
    const r = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '500ms', '--quiet', '-o', file]);
    expect([0, 1, 3], r.stderr).toContain(r.code);
  };

  beforeAll(async () => {
    lab = await startLabServers();
    await run(before);
    // The network team's change: the signaling port now answers. And something else broke.
    opened = createServer((s) => s.destroy());
    await new Promise<void>((r) => opened!.listen(lab.ports.closed, '127.0.0.1', r));
    await lab.stopWeb();
    await run(after);
  }, 60_000);
  afterAll(async () => {
    await new Promise<void>((r) => (opened ? opened.close(() => r()) : r()));
    await lab?.close();
  });

  it('names what got better and what got worse, per line, and exits 1', async () => {
    const r = await runCli(['diff', before, after, '--format', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout) as ReportDiff;
    const by = Object.fromEntries(d.lines.map((l) => [l.line, l]));
    expect(by.signaling).toMatchObject({ before: 'fail', after: 'pass', change: 'better', worse: false });
    expect(by.signaling!.fixed).toEqual([`tcp 127.0.0.1:${lab.ports.closed}`]);
    expect(by.portal).toMatchObject({ before: 'pass', after: 'fail', change: 'worse', worse: true });
    expect(by.portal!.newlyFailing).toEqual([`tcp 127.0.0.1:${lab.ports.web}`, `http 127.0.0.1:${lab.ports.web}`]);
    expect(by['data-echo']).toMatchObject({ change: 'same', worse: false });
    expect(d.worse).toBe(true);

    const text = await runCli(['diff', before, after]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^WORSE: 1 line\(s\) worse, 2 better, 2 unchanged$/m);
    expect(text.stdout).toMatch(/WORSE\s+PASS → FAIL\s+portal \(Portal web server\)/);
    expect(text.stdout).toMatch(/BETTER\s+FAIL → PASS\s+signaling /);

    const md = await runCli(['diff', before, after, '--format', 'markdown']);
    expect(md.code).toBe(1);
    expect(md.stdout).toContain('| Line | Before | After | Change | Now failing | Fixed |');
    expect(md.stdout).toContain(`| Portal web server<br>\`portal\` | PASS | FAIL | ❌ worse | tcp 127.0.0.1:${lab.ports.web}, http 127.0.0.1:${lab.ports.web} |  |`);
  });

  it('a report compared with itself is no regression (exit 0); the reverse comparison is worse (exit 1)', async () => {
    const r = await runCli(['diff', after, before]);
    // Reversed: portal recovers, signaling breaks again: that is worse, so exit 1 ...
    expect(r.code).toBe(1);
    // ... while a report compared with itself is no regression.
    const same = await runCli(['diff', before, before]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/^NO REGRESSION: 5 unchanged$/m);
  });

  it('refuses reports of different catalogs, and files that are not reports, with exit 2', async () => {
    const other = join(dir, 'other.json');
    const rep = JSON.parse(readFileSync(before, 'utf8')) as Report;
    writeFileSync(other, JSON.stringify({ ...rep, catalog: { ...rep.catalog, id: 'eschat' } }));
    const r = await runCli(['diff', before, other]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`is a report of catalog 'lab-report', ${other} of 'eschat'`);
    const missing = await runCli(['diff', before, join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: cannot read it \(ENOENT\)/);
  });
});
