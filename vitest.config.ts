import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/setup/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Most test files wait on sockets, timers and child processes, not on this process's CPU, so
    // they run side by side: more files than cores. Each lab test builds namespaces with its own
    // prefix, so labs never collide (src/lab/netns.ts).
    fileParallelism: true,
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    sequence: { sequencer: SlowFirstSequencer },
  },
});
