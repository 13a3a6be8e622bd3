#!/usr/bin/env node
// The `baton` command: the compiled CLI in dist/ (no loader; job modules are compiled by the
// runtime itself). In baton's own checkout, dist/ only while it is a build of src/ as it is now
// (`npm ci` and `npm run build` make it); otherwise the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
const src = new URL('../src/', import.meta.url);
let useDist = existsSync(new URL('cli.js', dist));
if (useDist && existsSync(new URL('cli/main.ts', src)) && existsSync(new URL('../.git', import.meta.url))) {
  const { isBuildOf } = await import(new URL('fingerprint.js', dist).href);
  useDist = isBuildOf(fileURLToPath(dist), fileURLToPath(src));
}
let main;
if (useDist) {
  ({ main } = await import(new URL('cli.js', dist).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('cli/main.ts', src).href));
}
process.exitCode = await main(process.argv);
