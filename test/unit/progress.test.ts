/**
 * Progress people can read, and shell conventions (issue 16): the first line appears at once with
 * what will be checked; the progress line shows elapsed time and an estimate; the idle countdown's
 * counts add up to the flows; TERM=dumb means no colour and no cursor escapes (checked on a real
 * pseudo-terminal, with `script`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canRedraw, estimateLeftMs, makeProgress } from '../../src/cli/progress.js';
import { defaultColor } from '../../src/cli/options.js';
import { makeTimerProgress } from '../../src/cli/timers.js';
import { makeLookup, runOne } from '../../src/engine/run.js';
import { kindDeadlineMs as idleDeadlineMs } from '../../src/probers/index.js';
import { startReflector } from '../../src/reflector/server.js';
import type { ProbeProgress, ProbeResult } from '../../src/types.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { needTools } from '../helpers/tools.js';
import { closedTcpPort, udpServer, type Closeable } from '../helpers/servers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stand-in stderr that records what is written (the renderers of progress are tested directly). */
function sink(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  let out = '';
  return { isTTY, write: (s: string) => ((out += s), true), text: () => out } as unknown as NodeJS.WriteStream & { text: () => string };
}

const result = (status: ProbeResult['status']): ProbeResult => ({ id: 'x', line: 'l', kind: 'udp', host: '127.0.0.1', port: 1, status, reason: 'R', startedAt: '', durationMs: 1, attempts: 1 });

describe('run progress', () => {
  it('says what it will check at once, then elapsed time and an estimate from the pace so far', () => {
    let t = 1_000_000;
    const s = sink(false);
    const p = makeProgress('eschat', false, { stream: s, now: () => t, env: {} });
    p.start({ probes: 486, lines: 9, timeoutMs: 3000 });
    expect(s.text()).toBe('netcheck eschat: checking 486 probes over 9 lines, up to 3s each…\n');
    t += 500;
    p.onResult(result('ok'), 1, 486);
    // Too early to estimate; non-terminal output is paced, so nothing more yet.
    expect(s.text().split('\n')).toHaveLength(2);
    t += 2_500;
    p.onResult(result('filtered'), 100, 486);
    // 3 s for 100 probes: 386 more take about 11.6 s.
    expect(s.text().split('\n')[1]).toBe('netcheck eschat: 100/486 probes (1 ok, 1 filtered) · 3s elapsed · about 12s left');
    t += 5_000;
    p.onResult(result('ok'), 486, 486);
    p.end();
    expect(s.text().trimEnd().split('\n').pop()).toBe('netcheck eschat: 486/486 probes (2 ok, 1 filtered) · 8s elapsed — done');
  });

  it('estimates nothing before there is a pace to go by', () => {
    expect(estimateLeftMs(400, 5, 10)).toBeUndefined();
    expect(estimateLeftMs(2000, 0, 10)).toBeUndefined();
    expect(estimateLeftMs(2000, 5, 10)).toBe(2000);
  });

  it('the first line appears at once, long before probes that wait out their deadline finish', async () => {
    // Three UDP ports that swallow datagrams: every probe waits its whole 2 s deadline.
    const silent: Closeable[] = [];
    for (let i = 0; i < 3; i++) silent.push(await udpServer(() => undefined));
    cleanups.push(() => Promise.all(silent.map((s) => s.close())).then(() => undefined));
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-progress-'));
    const catalog = join(dir, 'silent.yaml');
    writeFileSync(
      catalog,
      `schema: netcheck/catalog/v1\nid: silent\ntitle: t\nsource: t\nsections:\n  - id: s\n    name: S\n    lines:\n      - id: data\n        description: d\n        targets: [127.0.0.1]\n        ports: [${silent.map((s) => s.port).join(', ')}]\n        checks: [{ kind: udp }]\n`,
    );
    const child = spawn(process.execPath, [BIN, 'run', '--catalog', catalog, '--no-control', '--timeout', '2s', '--udp-recheck', '0s', '--format', 'json'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    let firstAt = 0;
    child.stderr.on('data', (d) => {
      err += d;
      if (!firstAt && err.includes('\n')) firstAt = performance.now();
    });
    await new Promise((r) => child.on('close', r));
    const exitAt = performance.now();
    expect(err.split('\n')[0]).toBe('netcheck silent: checking 3 probes over 1 line, up to 2s each…');
    // The probes waited 2 s after the first line: half of it is a generous margin under load.
    expect(exitAt - firstAt).toBeGreaterThan(1000);
    expect(err).toMatch(/netcheck silent: 3\/3 probes \(3 open\|filtered\) · \ds elapsed — done/);
  }, 30_000);
});

describe('the idle-timer countdown', () => {
  it('counts each flow once: alive + lost + waiting (+ failed) = flows, at every update', async () => {
    const r = await startReflector({ tcpPorts: [0], udpPorts: [0] });
    cleanups.push(() => r.close());
    const updates: ProbeProgress[] = [];
    const options = { gaps: ['300ms', '700ms'], require: '700ms' };
    const spec = { id: 'timers/tcp', line: 'timers/tcp', kind: 'tcp-idle', host: '127.0.0.1', port: r.tcp[0]!, options, timeoutMs: idleDeadlineMs('tcp-idle', options)! };
    const o = await runOne(spec, { lookup: makeLookup(), progress: (u) => updates.push({ ...u }) });
    expect(o.status).toBe('ok');
    expect(updates.length).toBeGreaterThan(3);
    for (const u of updates) {
      expect(u.flows).toBe(2);
      expect(u.alive + u.lost + u.pending + u.failed, JSON.stringify(u)).toBe(u.flows);
    }
    // While idle in their gaps, flows are waiting, not yet known alive; at the end both survived.
    expect(updates.some((u) => u.pending === 2 && u.alive === 0)).toBe(true);
    expect(updates.at(-1)).toMatchObject({ alive: 2, lost: 0, pending: 0, failed: 0 });
  });

  it('a flow the far end cannot set up is counted once, as failed, not as waiting', async () => {
    const closed = await closedTcpPort();
    const updates: ProbeProgress[] = [];
    const options = { gaps: ['200ms', '400ms'], require: '400ms' };
    await runOne({ id: 'timers/tcp', line: 'timers/tcp', kind: 'tcp-idle', host: '127.0.0.1', port: closed, options, timeoutMs: idleDeadlineMs('tcp-idle', options)! }, {
      lookup: makeLookup(),
      progress: (u) => updates.push({ ...u }),
    });
    for (const u of updates) expect(u.alive + u.lost + u.pending + u.failed).toBe(u.flows);
    expect(updates.at(-1)).toMatchObject({ flows: 2, failed: 2, pending: 0 });
  });

  it('prints the counts so they add up', () => {
    const s = sink(false);
    const p = makeTimerProgress(false, s);
    p.onProgress({ id: 'a', endsAt: Date.now() + 60_000, flows: 6, alive: 2, lost: 1, pending: 3, failed: 0 });
    p.onProgress({ id: 'b', endsAt: Date.now() + 30_000, flows: 1, alive: 1, lost: 0, pending: 0, failed: 0 });
    p.end();
    const lines = s.text().trim().split('\n');
    expect(lines[0]).toMatch(/^netcheck timers: \S+ left until the last gap ends · 6 flow\(s\): 2 alive, 1 lost, 3 waiting$/);
    expect(lines.at(-1)).toBe('netcheck timers: done · 7 flow(s): 3 alive, 1 lost, 3 waiting');
  });
});

const SCRIPT = needTools('the TERM=dumb terminal test (a real pseudo-terminal)', ['script'])?.script;

describe('TERM=dumb', () => {
  it('means no colour by default, and no cursor escapes for progress', () => {
    expect(defaultColor({ isTTY: true }, { TERM: 'xterm-256color' })).toBe(true);
    expect(defaultColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(defaultColor({ isTTY: true }, { TERM: 'xterm', NO_COLOR: '1' })).toBe(false);
    expect(defaultColor({ isTTY: false }, { TERM: 'xterm' })).toBe(false);
    expect(canRedraw({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it.skipIf(!SCRIPT)('on a real terminal: escapes with TERM=xterm, none with TERM=dumb', async () => {
    const closed = await closedTcpPort();
    const cmd = `'${process.execPath}' '${BIN}' probe tcp 127.0.0.1:${closed} --timeout 500ms`;
    const onTty = (term: string): string => {
      const env: NodeJS.ProcessEnv = { ...process.env, TERM: term };
      delete env.NO_COLOR;
      delete env.FORCE_COLOR;
      const r = spawnSync(SCRIPT!, ['-qec', cmd, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8', timeout: 20_000 });
      expect(r.stdout).toContain('refused');
      return r.stdout;
    };
    expect(onTty('xterm')).toContain('\x1b[');
    expect(onTty('dumb')).not.toContain('\x1b');
  });
});
