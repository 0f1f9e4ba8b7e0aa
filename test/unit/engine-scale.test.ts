/**
 * The engine's bookkeeping after a sweep is linear (issue 14): the UDP recheck groups results by
 * destination, and grouping 65,534 ports of one host by copying the growing list on each result
 * (`[...list, p]`) took ~50 s on these machines; pushing takes milliseconds.
 *
 * No packet is needed to test bookkeeping, and sending 65,534 datagrams to this machine's loopback
 * would hit other tests' servers: for this file's duration the `udp` prober is replaced by one that
 * answers at once (every port silent, a few refused, so the recheck phase has work to do). The real
 * UDP prober and its recheck against real closed ports are tested in probers.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbes } from '../../src/engine/run.js';
import { PROBERS, loadProbers } from '../../src/probers/index.js';
import type { Prober, ProbeSpec } from '../../src/types.js';

let realUdp: Prober | undefined;
let rechecked = 0;

beforeAll(async () => {
  await loadProbers(['udp']);
  realUdp = PROBERS.udp;
  const firstPass = new Set<string>();
  PROBERS.udp = async (spec) => {
    if (firstPass.has(spec.id)) rechecked++;
    firstPass.add(spec.id);
    return spec.port! % 10_000 === 1 ? { status: 'refused', reason: 'ECONNREFUSED' } : { status: 'open|filtered', reason: 'UDP_SILENCE', detail: 'no reply' };
  };
});
afterAll(() => {
  if (realUdp) PROBERS.udp = realUdp;
});

describe('engine at sweep scale', () => {
  it('runs 65,534 UDP probes of one host and groups them for the recheck in one pass', async () => {
    const probes: ProbeSpec[] = Array.from({ length: 65_534 }, (_, i) => ({ id: `l/udp/192.0.2.1:${i + 1}`, line: 'l', kind: 'udp', host: '192.0.2.1', port: i + 1, options: {}, timeoutMs: 1000 }));
    // A budget of 0 ms: the silent ports are marked as possibly rate-limited, none re-sent.
    const { results } = await runProbes(probes, new Map(), { udpRecheckIntervalMs: 1, udpRecheckBudgetMs: 0 });
    expect(results).toHaveLength(65_534);
    expect(results.filter((r) => r.status === 'refused')).toHaveLength(7);
    expect(results.filter((r) => r.reason === 'UDP_SILENCE_RATE_LIMITED')).toHaveLength(65_527);
    expect(rechecked).toBe(0);
  }, 60_000);
});

describe('heap growth of big runs', () => {
  it('is capped only for runs of HEAP_CAP_MIN_PROBES or more, and only on V8 majors known to have the flag', async () => {
    const { shouldCapHeap, HEAP_CAP_MIN_PROBES } = await import('../../src/engine/heap.js');
    expect(shouldCapHeap(HEAP_CAP_MIN_PROBES - 1, '11.3.244.8')).toBe(false);
    expect(shouldCapHeap(HEAP_CAP_MIN_PROBES, '11.3.244.8')).toBe(true);
    expect(shouldCapHeap(HEAP_CAP_MIN_PROBES, '13.6.233.10')).toBe(true);
    // An unknown V8 would print "unrecognized flag" on stdout: never asked.
    expect(shouldCapHeap(HEAP_CAP_MIN_PROBES, '99.1.0.0')).toBe(false);
    expect(shouldCapHeap(HEAP_CAP_MIN_PROBES, process.versions.v8)).toBe(true);
  });
});
