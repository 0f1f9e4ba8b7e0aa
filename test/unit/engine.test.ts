/**
 * The engine's scheduling contract (src/engine/run.ts): each worker reuses one AbortController and
 * one deadline timer from probe to probe for speed, so these tests pin down what must still hold:
 * every probe gets its own full deadline, no probe ever sees another's abort, a prober that throws
 * is an internal error, and the last probe leaves no timer holding the process open.
 *
 * Two kinds exist only in this file, registered for its duration: `test-wait` (settles when its
 * signal aborts) and `test-leaky` (settles at once but leaves a listener on its signal, as a buggy
 * prober might). Real sockets are used where the kind is real (tcp to a closed loopback port).
 */
import { addAbortListener, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLookup, runOne, runProbes } from '../../src/engine/run.js';
import { PROBERS } from '../../src/probers/index.js';
import type { Prober, ProbeSpec } from '../../src/types.js';
import { perAddress } from '../../src/probers/paths.js';
import { runCli } from '../helpers/cli.js';
import { closedTcpPort, tcpServer } from '../helpers/servers.js';

const lateAborts: string[] = [];

beforeAll(() => {
  PROBERS['test-wait'] = (spec, ctx) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      ctx.signal.addEventListener('abort', () => resolve({ status: 'filtered', reason: 'WAITED', detail: `aborted after ${Math.round(performance.now() - t0)}ms` }), { once: true });
    });
  PROBERS['test-leaky'] = async (spec, ctx) => {
    ctx.signal.addEventListener('abort', () => lateAborts.push(spec.id));
    return { status: 'ok', reason: 'DONE' };
  };
  // The same bug through each other way Node offers to listen to a signal.
  PROBERS['test-leaky-onabort'] = async (spec, ctx) => {
    ctx.signal.onabort = () => lateAborts.push(spec.id);
    return { status: 'ok', reason: 'DONE' };
  };
  PROBERS['test-leaky-addabortlistener'] = async (spec, ctx) => {
    addAbortListener(ctx.signal, () => lateAborts.push(spec.id));
    return { status: 'ok', reason: 'DONE' };
  };
  PROBERS['test-leaky-once'] = async (spec, ctx) => {
    void once(ctx.signal, 'abort').then(() => lateAborts.push(spec.id));
    return { status: 'ok', reason: 'DONE' };
  };
  PROBERS['test-leaky-timer'] = async (spec, ctx) => {
    sleep(60_000, undefined, { signal: ctx.signal, ref: false }).catch(() => lateAborts.push(spec.id));
    return { status: 'ok', reason: 'DONE' };
  };
  PROBERS['test-throw'] = async () => {
    throw new Error('boom');
  };
  // Blocks the event loop, as a busy or starved process would.
  PROBERS['test-block'] = async (spec) => {
    const until = performance.now() + Number(spec.options.blockMs);
    while (performance.now() < until) {
      /* busy */
    }
    return { status: 'ok', reason: 'DONE' };
  };
  // A prober with the bug issue 11 found in several: it ignores its deadline and never returns.
  PROBERS['test-hang'] = () => new Promise(() => undefined);
  // Hears its deadline as the tcp prober does: through ctx.onDeadline, no abort listener.
  PROBERS['test-deadline'] = waitOnDeadline;
  // ... and for every address of a name, side by side, as the registry wraps connection kinds.
  PROBERS['test-deadline-fanout'] = perAddress(waitOnDeadline, undefined);
});
afterAll(() => {
  for (const k of ['test-wait', 'test-leaky', 'test-leaky-onabort', 'test-leaky-addabortlistener', 'test-leaky-once', 'test-leaky-timer', 'test-throw', 'test-block', 'test-hang', 'test-deadline', 'test-deadline-fanout']) delete PROBERS[k];
});

const waitOnDeadline: Prober = (spec, ctx) =>
  new Promise((resolve) => {
    const t0 = performance.now();
    const done = (): void => resolve({ status: 'filtered', reason: 'WAITED', detail: `deadline after ${Math.round(performance.now() - t0)}ms`, address: spec.host });
    if (ctx.onDeadline) ctx.onDeadline(done);
    else ctx.signal.addEventListener('abort', done, { once: true });
  });

const spec = (id: string, kind: string, timeoutMs: number, host = '127.0.0.1'): ProbeSpec => ({ id, line: 'l', kind, host, port: 1, options: {}, timeoutMs });

describe('engine: reused controllers and timers', () => {
  it('gives every probe of a worker its own full deadline', async () => {
    const probes = [spec('a', 'test-wait', 150), spec('b', 'test-wait', 150), spec('c', 'test-wait', 250)];
    const t0 = performance.now();
    const { results } = await runProbes(probes, new Map(), { concurrency: 1 });
    const took = performance.now() - t0;
    expect(results.map((r) => r.reason)).toEqual(['WAITED', 'WAITED', 'WAITED']);
    // One worker, one after the other: each waits its own deadline, none is cut by the last one's timer.
    expect(results[0]!.durationMs).toBeGreaterThanOrEqual(145);
    expect(results[1]!.durationMs).toBeGreaterThanOrEqual(145);
    expect(results[2]!.durationMs).toBeGreaterThanOrEqual(245);
    expect(took).toBeGreaterThanOrEqual(540);
  });

  it('a listener a prober left on its signal never fires for a later probe’s deadline or a second Ctrl-C', async () => {
    lateAborts.length = 0;
    const hard = new AbortController();
    const probes = [spec('leak1', 'test-leaky', 100), spec('w1', 'test-wait', 120), spec('leak2', 'test-leaky', 100), spec('w2', 'test-wait', 5000)];
    // The second Ctrl-C comes while w2 runs (after the others are done), whatever the machine's speed.
    const { results } = await runProbes(probes, new Map(), { concurrency: 1, hardSignal: hard.signal, onStart: (s) => void (s.id === 'w2' && setImmediate(() => hard.abort())) });
    expect(results.map((r) => r.id)).toEqual(['leak1', 'w1', 'leak2', 'w2']);
    expect(results[1]!.reason).toBe('WAITED');
    expect(results[3]!.status).toBe('skipped'); // cut by the second Ctrl-C, and said so
    // w1's deadline and the hard abort reached only the probes running at the time.
    expect(lateAborts).toEqual([]);
  });

  // The worker reuses its controller until someone adds a listener to its signal: every way of
  // adding one must be noticed (src/engine/attempt.ts, Slot.fresh).
  it.each(['onabort', 'addabortlistener', 'once', 'timer'])('a listener left through %s never fires for a later probe’s deadline or a second Ctrl-C', async (how) => {
    lateAborts.length = 0;
    const hard = new AbortController();
    const kind = `test-leaky-${how}`;
    const probes = [spec('leak1', kind, 100), spec('w1', 'test-wait', 120), spec('leak2', kind, 100), spec('w2', 'test-wait', 5000)];
    const { results } = await runProbes(probes, new Map(), { concurrency: 1, hardSignal: hard.signal, onStart: (s) => void (s.id === 'w2' && setImmediate(() => hard.abort())) });
    expect(results.map((r) => [r.id, r.reason])).toEqual([
      ['leak1', 'DONE'],
      ['w1', 'WAITED'],
      ['leak2', 'DONE'],
      ['w2', 'INTERRUPTED'],
    ]);
    // Aborts are delivered synchronously and promise reactions within the same turn: give both a turn.
    await new Promise((r) => setImmediate(r));
    expect(lateAborts).toEqual([]);
  });

  it('ctx.onDeadline: every probe of a worker hears its own deadline, and no earlier probe’s', async () => {
    const probes = [spec('d1', 'test-deadline', 150), spec('d2', 'test-deadline', 150), spec('d3', 'test-deadline', 250)];
    const { results } = await runProbes(probes, new Map(), { concurrency: 1 });
    expect(results.map((r) => [r.status, r.reason, r.attempts])).toEqual([
      ['filtered', 'WAITED', 1],
      ['filtered', 'WAITED', 1],
      ['filtered', 'WAITED', 1],
    ]);
    expect(results[0]!.durationMs).toBeGreaterThanOrEqual(145);
    expect(results[1]!.durationMs).toBeGreaterThanOrEqual(145);
    expect(results[2]!.durationMs).toBeGreaterThanOrEqual(245);
  });

  it('ctx.onDeadline: the addresses of a name, probed side by side, each hear the deadline (none is left to the watchdog)', async () => {
    const addresses = [{ address: '127.0.0.1', family: 4 as const }, { address: '127.0.0.2', family: 4 as const }];
    const t0 = performance.now();
    const o = await runOne(spec('f', 'test-deadline-fanout', 200, 'two.example'), { lookup: async () => addresses });
    const took = performance.now() - t0;
    // Both attempts register a callback on the one slot: if the second replaced the first, the first
    // would never hear its deadline, and the probe would end as PROBE_OVERRAN after the 2.2 s grace.
    expect([o.status, o.reason]).toEqual(['filtered', 'WAITED']);
    const per = (o.data as { perAddress: { address: string; status: string }[] }).perAddress;
    expect(per.map((x) => [x.address, x.status])).toEqual([
      ['127.0.0.1', 'filtered'],
      ['127.0.0.2', 'filtered'],
    ]);
    expect(took).toBeLessThan(2000);
  });

  it('a prober that throws is an internal error and the run goes on', async () => {
    const { results } = await runProbes([spec('t', 'test-throw', 500), spec('u', 'unknown-kind', 500), spec('w', 'test-wait', 50)], new Map(), { concurrency: 1 });
    expect(results.map((r) => [r.status, r.reason, r.internal])).toEqual([
      ['error', 'INTERNAL', true],
      ['error', 'UNKNOWN_KIND', true],
      ['filtered', 'WAITED', undefined],
    ]);
    expect(results[0]!.detail).toContain('boom');
  });

  it('a prober that never returns is left behind after its deadline and a grace, as an internal error (issue 11)', async () => {
    const t0 = performance.now();
    const { results } = await runProbes([spec('h', 'test-hang', 100), spec('w', 'test-wait', 50)], new Map(), { concurrency: 1 });
    expect(results.map((r) => [r.status, r.reason, r.internal])).toEqual([
      ['error', 'PROBE_OVERRAN', true],
      ['filtered', 'WAITED', undefined],
    ]);
    // Deadline 100 ms + grace 2.1 s, then the next probe: not forever.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('reuses one worker across many real TCP probes without crossing outcomes', async () => {
    const port = await closedTcpPort();
    const probes = Array.from({ length: 300 }, (_, i) => ({ ...spec(`r${i}`, 'tcp', 2000), port }));
    const { results } = await runProbes(probes, new Map(), { concurrency: 4 });
    expect(results).toHaveLength(300);
    expect(new Set(results.map((r) => r.reason))).toEqual(new Set(['ECONNREFUSED']));
    // Refusals: each ends at its RST, before its 2 s deadline (a crossed timer would cut it there).
    expect(results.filter((r) => r.attempts !== 1 || r.durationMs >= 2000).map((r) => `${r.id} ${r.attempts} ${r.durationMs}`)).toEqual([]);
  });

  it('widens past its initial width while probes wait on the network, up to the cap', async () => {
    // 400 probes that each wait 400 ms: at the initial width of 128 that is four waves (1.6 s);
    // widened to the cap of 512 while the event loop idles, about one wave.
    const probes = Array.from({ length: 400 }, (_, i) => spec(`w${i}`, 'test-wait', 400, `127.0.${i >> 8}.${(i & 255) + 1}`)); // distinct hosts: no per-host limit
    let peak = 0;
    let inFlight = 0;
    const t0 = performance.now();
    const { results } = await runProbes(probes, new Map(), {
      concurrency: 512,
      onStart: () => void (peak = Math.max(peak, ++inFlight)),
      onResult: () => void inFlight--,
    });
    const took = performance.now() - t0;
    expect(results.every((r) => r.reason === 'WAITED')).toBe(true);
    expect(peak).toBe(400);
    expect(took).toBeLessThan(4 * 400); // under the four waves of an engine that never widened

    // The cap holds: with concurrency 100 never more than 100 at once.
    peak = 0;
    inFlight = 0;
    await runProbes(probes.slice(0, 250).map((p) => ({ ...p, timeoutMs: 100 })), new Map(), { concurrency: 100, onStart: () => void (peak = Math.max(peak, ++inFlight)), onResult: () => void inFlight-- });
    expect(peak).toBe(100);
  });

  it('a deadline that falls due while the event loop is blocked lets answers already in hand count first', async () => {
    // The handshake completes in the kernel while this process is busy for 3 deadlines; when the
    // loop runs again, both the deadline timer and the connect are due. The connect must win: a
    // late timer is this host's delay, not the network's silence.
    const srv = await tcpServer();
    try {
      const probes: ProbeSpec[] = [{ ...spec('c', 'tcp', 100), port: srv.port }, { ...spec('b', 'test-block', 1000, '127.0.0.2'), options: { blockMs: 300 } }];
      const { results } = await runProbes(probes, new Map(), { concurrency: 2, adaptiveDeadlines: false });
      expect(results.map((r) => [r.id, r.status, r.reason])).toEqual([
        ['c', 'ok', 'CONNECTED'],
        ['b', 'ok', 'DONE'],
      ]);
      // runOne (control probe, UDP rechecks) keeps the same rule.
      const one = runOne({ ...spec('c2', 'tcp', 100), port: srv.port }, { lookup: makeLookup() });
      await runOne({ ...spec('b2', 'test-block', 1000), options: { blockMs: 300 } }, { lookup: makeLookup() });
      const o = await one;
      expect([o.status, o.reason]).toEqual(['ok', 'CONNECTED']);
    } finally {
      await srv.close();
    }
  });

  it('the last probe leaves no deadline timer holding the process open', async () => {
    const port = await closedTcpPort();
    // A refused probe with a 20 s deadline: the process must exit when it settles, not 20 s later.
    const r = await runCli(['probe', 'tcp', `127.0.0.1:${port}`, '--timeout', '20s', '--json']);
    expect(JSON.parse(r.stdout).probes[0].status).toBe('refused');
    expect(r.ms).toBeLessThan(20_000 / 2);
  });
});
