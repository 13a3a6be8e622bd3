import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { baton: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time on 2 cores (vitest's default there is one): most whole-job tests
    // wait on checkpoints, paced input and child processes, so they overlap well; every test
    // synchronizes on events, not on time, so the extra load only slows them down.
    maxWorkers: 2,
    execArgv: ['--openssl-legacy-provider', '--import', 'tsx'],
  },
});
