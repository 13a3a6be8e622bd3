// `npm run build` (also run by `npm ci` / `npm install` through `prepare`, and before `npm pack`):
// compiles src/ into dist/, the JavaScript the package's exports, its `baton` command and its
// worker threads load. Each entry is one ES module; shared code sits in dist/chunks/.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileRuntime } from '../src/runtime/code/runtime-build.ts';

const root = fileURLToPath(new URL('../src/', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/', import.meta.url));
const started = performance.now();
rmSync(outdir, { recursive: true, force: true });
await compileRuntime(root, outdir, { dependencies: 'by-name', extraEntries: { cli: 'cli/main.ts' } });
console.log(`baton: built dist/ in ${Math.round(performance.now() - started)} ms`);
