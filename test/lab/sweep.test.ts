/**
 * A real sweep through the CLI (issue 14), on the loopback of a namespace of the test's own (every
 * address of 127.64.0.0/22 is local there and nothing leaves the namespace): two addresses listen,
 * 1,020 refuse. The terminal report summarises the line nmap-style, and the JSON report (1,022
 * probes: above JSON_PRETTY_MAX_PROBES) is compact, complete and streamed to its --output file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, type Lab } from '../../src/lab/netns.js';
import { waitReady } from '../../src/lab/serve.js';
import type { Report } from '../../src/types.js';
import { BIN } from '../helpers/cli.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab sweep tests: ${support.why}`);
const NODE = process.execPath;
const LISTENING = ['127.64.0.9', '127.64.2.200'];
const LISTENER = `
const net = require('node:net');
let n = 0;
for (const host of ${JSON.stringify(LISTENING)}) {
  const s = net.createServer((c) => { c.on('error', () => {}); c.resume(); });
  s.listen({ host, port: 9000 }, () => { if (++n === ${LISTENING.length}) process.stdout.write('{"ready":true}\\n'); });
}`;

describe.skipIf(!support.ok)('lab: a 1,022-address sweep through the CLI', () => {
  let lab: Lab;
  let tmp: string;

  beforeAll(async () => {
    lab = await createLab();
    tmp = mkdtempSync(join(tmpdir(), 'nc-sweep-lab-'));
    await waitReady(lab.spawn('client', [NODE, '-e', LISTENER]));
  });
  afterAll(async () => {
    await lab?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const netcheck = (args: string[]) => lab.exec('client', [NODE, BIN, 'probe', 'tcp', '127.64.0.0/22:9000', '--no-control', ...args], { timeoutMs: 60_000 });

  it('text: one summary line and the two exceptions; the JSON file: compact, complete, one probe per line', async () => {
    const file = join(tmp, 'sweep.json');
    const r = await netcheck(['--output', file]);
    expect(r.code, r.stderr).toBe(1); // the line fails: most addresses refuse
    expect(r.stdout).toContain('      1,022 probes: 1,020 refused, 2 ok:\n');
    const listed = r.stdout.split('\n').filter((l) => /^ {8}tcp /.test(l));
    expect(listed.map((l) => l.trim().split(/\s+/)[1])).toEqual(LISTENING.map((h) => `${h}:9000`));
    expect(listed.join('\n')).not.toContain('refused');

    const text = readFileSync(file, 'utf8');
    const report = JSON.parse(text) as Report;
    expect(report.probes).toHaveLength(1022);
    expect(report.probes.filter((p) => p.status === 'ok').map((p) => p.host)).toEqual(LISTENING);
    expect(report.probes.filter((p) => p.status !== 'ok').every((p) => p.status === 'refused')).toBe(true);
    expect(text.split('\n').filter((l) => l.startsWith('{"id":"target/tcp/'))).toHaveLength(1022);
    expect(readdirSync(tmp)).toEqual(['sweep.json']); // no temporary file left
  });

  it('--json on stdout is the same compact, complete report', async () => {
    const r = await netcheck(['--json', '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.probes).toHaveLength(1022);
    expect(report.lines[0]!.counts).toEqual({ ok: 2, refused: 1020 });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('{"id":"target/tcp/'))).toHaveLength(1022);
  });

  it('Markdown: the sweep in its own section, its two exceptions in a table', async () => {
    const file = join(tmp, 'sweep.md');
    const r = await netcheck(['--output', file, '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    const md = readFileSync(file, 'utf8');
    expect(md).toContain('1,022 probes: 1,020 refused, 2 ok');
    expect(md.split('\n').filter((l) => /^ {2}\| tcp 127\.64\./.test(l))).toHaveLength(2);
    expect(md).not.toContain('## Probes that did not pass');
  });
});
