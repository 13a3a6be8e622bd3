#!/usr/bin/env node
// The `baton` command. Installed as a package: the compiled CLI in dist/ (no loader; job modules
// are compiled by the runtime itself). In baton's own checkout: the TypeScript sources through tsx,
// so a change to src/ needs no build step.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const installed = /[\\/]node_modules[\\/]/.test(root) && existsSync(new URL('../dist/cli.js', import.meta.url));
let main;
if (installed) {
  ({ main } = await import('../dist/cli.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
