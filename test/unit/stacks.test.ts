/**
 * Stack traces on the probe path (issue 14, src/engine/stacks.ts): the errors the network produces
 * while a run's probes are in flight (a refused connect, here from a real closed loopback port) are
 * built without a stack trace, while a prober that throws (a bug) still gets one in `data.stack`,
 * and NETCHECK_STACK_TRACES=1 keeps traces on throughout.
 *
 * Two kinds exist only in this file: `test-refused` makes a real connection to a closed 127.0.0.1
 * port and records the stack of the error Node hands it, then classifies it as the tcp prober does;
 * `test-bug` throws from a named function.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runProbes } from '../../src/engine/run.js';
import { resetStackPolicyForTests, STACK_TRACES_ENV } from '../../src/engine/stacks.js';
import { PROBERS } from '../../src/probers/index.js';
import type { ProbeSpec } from '../../src/types.js';
import { closedTcpPort } from '../helpers/servers.js';

const seenStacks: string[] = [];
let port = 0;

function aProberBug(): never {
  throw new TypeError('cannot read the thing');
}

beforeAll(async () => {
  port = await closedTcpPort();
  PROBERS['test-refused'] = () =>
    new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve({ status: 'ok', reason: 'CONNECTED' });
      });
      s.once('error', (err) => {
        seenStacks.push(err.stack ?? '');
        resolve({ status: 'refused', reason: (err as NodeJS.ErrnoException).code ?? 'CONNECT_FAILED' });
      });
    });
  PROBERS['test-bug'] = async () => aProberBug();
});
afterAll(() => {
  delete PROBERS['test-refused'];
  delete PROBERS['test-bug'];
});
afterEach(() => {
  seenStacks.length = 0;
  delete process.env[STACK_TRACES_ENV];
  resetStackPolicyForTests();
});

const spec = (id: string, kind: string): ProbeSpec => ({ id, line: 'l', kind, host: '127.0.0.1', port, options: {}, timeoutMs: 5000 });
const frames = (stack: string): number => stack.split('\n').filter((l) => /^\s+at /.test(l)).length;

describe('stack traces on the probe path', () => {
  it('a refused connection during a run reaches the prober without a stack trace; the limit is restored after', async () => {
    const before = Error.stackTraceLimit;
    const { results } = await runProbes([spec('a', 'test-refused'), spec('b', 'test-refused'), spec('c', 'test-refused')], new Map(), { concurrency: 2 });
    expect(results.map((r) => r.reason)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    expect(seenStacks).toHaveLength(3);
    expect(seenStacks.map(frames)).toEqual([0, 0, 0]);
    expect(seenStacks[0]).toContain('ECONNREFUSED'); // the message is still there
    expect(Error.stackTraceLimit).toBe(before);
    expect(frames(new Error('after the run').stack!)).toBeGreaterThan(0);
  });

  it('a prober bug keeps its stack: the first occurrence says how to get it, every later one carries it', async () => {
    const { results } = await runProbes([spec('x', 'test-bug'), spec('y', 'test-bug'), spec('z', 'test-bug')], new Map(), { concurrency: 1 });
    expect(results.map((r) => [r.status, r.reason, r.internal])).toEqual([
      ['error', 'INTERNAL', true],
      ['error', 'INTERNAL', true],
      ['error', 'INTERNAL', true],
    ]);
    expect(results[0]!.detail).toContain('cannot read the thing');
    expect(results[0]!.detail).toContain(`${STACK_TRACES_ENV}=1`);
    for (const r of results.slice(1)) {
      expect(r.detail).toContain('cannot read the thing');
      expect(String(r.data?.stack)).toMatch(/TypeError: cannot read the thing\n\s+at aProberBug /);
    }
  });

  it(`${STACK_TRACES_ENV}=1 keeps stack traces on: for the first bug and for network errors`, async () => {
    process.env[STACK_TRACES_ENV] = '1';
    const { results } = await runProbes([spec('x', 'test-bug'), spec('a', 'test-refused')], new Map(), { concurrency: 1 });
    expect(String(results[0]!.data?.stack)).toMatch(/at aProberBug /);
    expect(results[0]!.detail).not.toContain(STACK_TRACES_ENV);
    expect(frames(seenStacks[0]!)).toBeGreaterThan(0);
  });
});
