// `npm run test:soak`: the long kill-schedule soak only (npm test runs test/**/*.test.ts, never this).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { baton: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/fault/**/*.soak.ts'],
    testTimeout: 24 * 3_600_000,
    hookTimeout: 60_000,
    pool: 'forks',
    execArgv: ['--openssl-legacy-provider', '--import', 'tsx'],
  },
});
