/**
 * Test file order. Three workers share two cores, and the suite lasts as long as its last file, so
 * the files that take longest start first: a long file started late becomes the suite's tail.
 * Vitest orders by the durations it cached from an earlier run; a fresh clone has no cache, and
 * vitest then runs the largest files first, which are not the slowest. The files below are the
 * slowest measured on the 2-core machine (vitest JSON reporter, fresh clone); they start first,
 * in this order, whatever the cache says. The order of the others is vitest's.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOW_FIRST = [
  'test/exe/executables.test.ts', // builds both single-file executables in a fresh clone (~40 s)
  'test/lab/firewall.test.ts',
  'test/unit/daemon.test.ts',
  'test/unit/signals-pipes.test.ts',
  'test/unit/idle.test.ts',
  'test/lab/media.test.ts',
  'test/lab/path.test.ts',
  'test/lab/timers.test.ts',
  'test/unit/reports.test.ts',
  'test/unit/ipv6.test.ts',
  'test/unit/demo.test.ts',
  'test/unit/verdicts-loopback.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root.replace(/\/?$/, '/');
    const rank = (f: TestSpecification): number => {
      const i = SLOW_FIRST.indexOf(f.moduleId.startsWith(root) ? f.moduleId.slice(root.length) : f.moduleId);
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files not in the list keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
