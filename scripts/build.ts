// `npm run build` (also run by `npm ci` / `npm install` through `prepare`, and before `npm pack`):
// compiles src/ into dist/, the JavaScript the package's exports, its `baton` command and its
// worker threads load. Each entry is one ES module; shared code sits in dist/chunks/.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileRuntime } from '../src/runtime/code/runtime-build.ts';
import { BUILD_INFO, sourceFingerprint } from '../src/runtime/code/source-fingerprint.ts';

const root = fileURLToPath(new URL('../src/', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/', import.meta.url));
const started = performance.now();
// Built beside dist/ and swapped in: threads of running jobs load dist/ lazily, file by file, and
// must never find it half written (a swap leaves a window of two renames, not a whole build).
const staging = outdir.replace(/[\\/]$/, '') + `.tmp-${process.pid}`;
const old = outdir.replace(/[\\/]$/, '') + `.old-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
// Taken before compiling: a source changed meanwhile makes the build look stale, never fresh.
const sources = sourceFingerprint(root);
await compileRuntime(root, staging, { dependencies: 'by-name', extraEntries: { cli: 'cli/main.ts', fingerprint: 'runtime/code/source-fingerprint.ts' } });
// Lets this checkout's tests, benches and `bin/baton.mjs` use dist/ while src/ is unchanged.
writeFileSync(join(staging, BUILD_INFO), `${JSON.stringify({ sources })}\n`);
if (existsSync(outdir)) renameSync(outdir, old);
renameSync(staging, outdir);
rmSync(old, { recursive: true, force: true });
console.log(`baton: built dist/ in ${Math.round(performance.now() - started)} ms`);
