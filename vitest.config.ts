import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    // Two test files at once even on a 2-core machine (vitest's default there is one):
    // the QEMU suites spend minutes waiting on an emulator and the multi-process ones on
    // their children, so the suite's wall time drops (907 s -> 783 s in one run here,
    // under other load) with no test slower than its timeout.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
