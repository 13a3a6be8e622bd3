// `npm run build` (also run by `npm ci` / `npm install` through `prepare`, and before `npm pack`):
// compiles src/ into dist/, the JavaScript the package's exports, its `baton` command and its
// worker threads load. Each entry is one ES module; shared code sits in dist/chunks/.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileRuntime } from '../src/runtime/code/runtime-build.ts';
import { BUILD_INFO, sourceFingerprint } from '../src/runtime/code/source-fingerprint.ts';

const root = fileURLToPath(new URL('../src/', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/', import.meta.url));
const started = performance.now();
rmSync(outdir, { recursive: true, force: true });
// Taken before compiling: a source changed meanwhile makes the build look stale, never fresh.
const sources = sourceFingerprint(root);
await compileRuntime(root, outdir, { dependencies: 'by-name', extraEntries: { cli: 'cli/main.ts', fingerprint: 'runtime/code/source-fingerprint.ts' } });
// Lets this checkout's tests, benches and `bin/baton.mjs` use dist/ while src/ is unchanged.
writeFileSync(join(outdir, BUILD_INFO), `${JSON.stringify({ sources })}\n`);
console.log(`baton: built dist/ in ${Math.round(performance.now() - started)} ms`);
