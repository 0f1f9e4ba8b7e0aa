/**
 * Issue 11: a real SIGINT/SIGTERM at any moment of a run, and a stdout whose reader goes away.
 * The CLI is spawned as a user's shell would; signals are sent with kill(2), pipes closed for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/types.js';
import { writeCatalog } from '../helpers/catalog.js';
import { BIN, cliEnv, ROOT } from '../helpers/cli.js';
import { closedTcpPort, tcpServer, type Closeable } from '../helpers/servers.js';

const ENV = cliEnv();
const dir = mkdtempSync(join(tmpdir(), 'nc-signals-'));
const closers: Closeable[] = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const MARKER = join(ROOT, 'test/fixtures/signals/boot-marker.mjs');

/**
 * Spawn the CLI; send each signal `at` ms after Node has booted (the preloaded marker says so on
 * fd 3, just before bin/netcheck.js runs), so the moments are the CLI's own, however slow a
 * loaded machine is to start Node.
 */
function cliWithSignals(args: string[], signals: [number, NodeJS.Signals][], opts: { closeStdoutAfter?: number; onChild?: (child: ChildProcess) => void } = {}): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...ENV, NODE_OPTIONS: `--import=${MARKER}` },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    opts.onChild?.(child);
    // A reader that is gone before anything was written: the first write meets the closed pipe.
    if (opts.closeStdoutAfter === 0) child.stdout!.destroy();
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      // A reader that has seen enough and goes away, as `| head -c N` does.
      if (opts.closeStdoutAfter !== undefined && stdout.length >= opts.closeStdoutAfter) child.stdout!.destroy();
    });
    child.stderr!.on('data', (d) => (stderr += d));
    (child.stdio[3] as NodeJS.ReadableStream).once('data', () => {
      for (const [at, sig] of signals) setTimeout(() => child.kill(sig), at);
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

describe('Ctrl-C and SIGTERM at any moment (issue 11)', () => {
  let catalog = '';
  beforeAll(async () => {
    const hang = await tcpServer((s) => s.resume());
    closers.push(hang);
    const closed = await closedTcpPort();
    // Some probes end at once (refused), most wait for their 2 s deadline (a peer that never answers).
    catalog = writeCatalog([
      { id: 'refused', targets: ['127.0.0.1'], ports: [closed], checks: '[{ kind: tcp }]' },
      ...Array.from({ length: 12 }, (_, i) => ({ id: `hang${i}`, targets: ['127.0.0.1'], ports: [hang.port], checks: `[{ kind: http, scheme: http, path: /${i} }]` })),
    ]);
  });

  // From the first milliseconds after Node booted (bin/netcheck.js loading, yargs, the catalog,
  // the expansion: where a signal used to kill the run without a report) to the middle of the run.
  const moments = [0, 5, 15, 40, 70, 110, 160, 230, 320, 450, 650, 900, 1300, 1800];
  it.each(moments.map((ms, i) => [ms, i % 2 ? 'SIGINT' : 'SIGTERM'] as const))('%i ms after Node booted, %s: exit 130 and the report measured so far, never a partial file', async (ms, sig) => {
    const out = join(dir, `report-${ms}.json`);
    const r = await cliWithSignals(['run', '--catalog', catalog, '--no-control', '--timeout', '2s', '--per-host', '64', '--format', 'json', '--output', out], [[ms, sig]]);
    if (r.signal !== null) {
      // Only in the instant between the marker and the first statement of bin/netcheck.js can
      // Node's default action still win: then nothing ran, nothing was measured or written.
      expect(ms, `killed by ${sig} ${ms} ms after Node booted`).toBeLessThan(40);
      expect([r.signal, r.stdout, r.stderr, existsSync(out)]).toEqual([sig, '', '', false]);
      return;
    }
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.code).toBe(130);
    // The file is a whole report (it parses), marked interrupted; probes measured so far are in it.
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.interrupted).toBe(true);
    expect(report.diagnoses[0]!.code).toBe('INTERRUPTED');
    expect(report.lines).toHaveLength(13);
    expect(report.probes.length).toBeLessThanOrEqual(13);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // It ended within the probes' deadline of the signal, not after a whole run.
    expect(r.ms).toBeLessThan(ms + 15_000);
  });

  it('a signal before the run starts: nothing is sent, the report has no probes', async () => {
    // Sent while the CLI loads: the run then starts already stopped.
    let connections = 0;
    const srv = await tcpServer((s) => {
      connections++;
      s.resume();
    });
    closers.push(srv);
    const file = writeCatalog([{ id: 'a', targets: ['127.0.0.1'], ports: [srv.port], checks: '[{ kind: tcp }]' }]);
    const out = join(dir, 'early.json');
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await cliWithSignals(['run', '--catalog', file, '--no-control', '--format', 'json', '--output', out], [[60, 'SIGTERM']]);
      expect(r.code).toBe(130);
      const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
      if (report.probes.length > 0) continue; // this machine loaded the CLI in under 60 ms
      expect(report.interrupted).toBe(true);
      expect(report.lines[0]!.verdict).toBe('inconclusive');
      expect(connections).toBe(0);
      return;
    }
    throw new Error('never hit the moment before the run starts in 5 tries');
  });

  it('twice: the probes in flight are cancelled and the report is written at once', async () => {
    let connected!: () => void;
    const hang = Object.assign(await tcpServer((s) => (s.resume(), connected())), { connected: new Promise<void>((r) => (connected = r)) });
    closers.push(hang);
    const file = writeCatalog([{ id: 'slow', targets: ['127.0.0.1'], ports: [hang.port], checks: '[{ kind: http, scheme: http }]' }]);
    const out = join(dir, 'twice.json');
    // Both Ctrl-Cs once the probe is in flight (the server has its connection), not at guessed
    // moments, which a loaded machine's start-up can outlast.
    let child: ChildProcess | undefined;
    hang.connected.then(() => {
      child?.kill('SIGINT');
      setTimeout(() => child?.kill('SIGINT'), 300);
    });
    const r = await cliWithSignals(['run', '--catalog', file, '--no-control', '--timeout', '30s', '--format', 'json', '--output', out], [], { onChild: (c) => (child = c) });
    expect(r.code).toBe(130);
    expect(r.ms).toBeLessThan(15_000);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.probes.map((p) => [p.status, p.reason])).toEqual([['skipped', 'INTERRUPTED']]);
  });

  it('the reflector stops cleanly (exit 0) on a SIGTERM that comes while it starts', async () => {
    const r = await cliWithSignals(['reflect', '--tcp', '0', '--udp', '0', '--quiet'], [[40, 'SIGTERM']]);
    expect([r.code, r.signal]).toEqual([0, null]);
    expect(r.ms).toBeLessThan(15_000);
  });
});

describe('a closed stdout (issue 11)', () => {
  it('`plan … --json | head -1`: quiet, exit 141 (never 1, which means a required line failed)', async () => {
    // Half a megabyte of plan: far more than a pipe buffers, so writing it meets the closed pipe.
    const r = await cliWithSignals(['plan', 'liveperson', '--sample', '64', '--json'], [], { closeStdoutAfter: 1 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
  });

  it('a run whose reader goes away still writes its --output file, quietly, exit 141', async () => {
    const closed = await closedTcpPort();
    const out = join(dir, 'piped.json');
    // The reader is gone before the report is written, so writing it meets the closed pipe whatever
    // its size (one that read 10 bytes first raced the writer on a loaded machine).
    const r = await cliWithSignals(['probe', 'tcp', `127.0.0.0/22:${closed}`, '--no-control', '--verbose', '--quiet', '--output', out], [], { closeStdoutAfter: 0 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
    expect((JSON.parse(readFileSync(out, 'utf8')) as Report).probes).toHaveLength(1022);
  });
});
