import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/support/slow-first-sequencer.ts';

export default defineConfig({
  resolve: {
    // Exact names: a plain 'baton' alias would also rewrite 'baton/testing' to '.../index.ts/testing'.
    alias: [
      { find: /^baton$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^baton\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^baton\/metrics$/, replacement: fileURLToPath(new URL('./src/metrics/index.ts', import.meta.url)) },
      { find: /^baton\/internal$/, replacement: fileURLToPath(new URL('./src/internal.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time on 2 cores (vitest's default there is one): most whole-job tests
    // wait on checkpoints, paced input and child processes, so they overlap well; every test
    // synchronizes on events, not on time, so the extra load only slows them down.
    maxWorkers: 2,
    // Longest files first (measured, test/weights.json), so no minutes-long file starts last.
    sequence: { sequencer: SlowFirstSequencer },
    execArgv: ['--openssl-legacy-provider', '--import', 'tsx'],
  },
});
