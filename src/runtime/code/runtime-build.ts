// The compiled runtime worker threads load: `dist/` when baton runs from its build, otherwise a
// build of `src/` made on demand and kept in a cache directory named after the sources it came from.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isBuildOf, sourceFingerprint } from './source-fingerprint.ts';

/** The entries of a runtime build (one esbuild run with code splitting: they share their chunks). */
export const RUNTIME_ENTRIES = {
  index: 'index.ts',
  metrics: 'metrics/index.ts',
  internal: 'internal.ts',
  testing: 'testing/index.ts',
  worker: 'runtime/worker/worker-entry.ts',
} as const;

export type RuntimeEntry = keyof typeof RUNTIME_ENTRIES;

/** Dependencies compiled into the runtime rather than imported: zod is read on every runJob, and its full import costs ~100 ms. */
const BUNDLED_DEPENDENCIES = ['zod'];

/** Where a runtime build is: every entry as a file URL. */
export interface RuntimeBuild {
  readonly dir: string;
  entry(name: RuntimeEntry): string;
}

/** This file tells whether baton runs from its sources (`src/runtime/code/*.ts`) or from `dist/` (where it is part of a chunk). */
const here = fileURLToPath(import.meta.url);
/** True when baton runs from its TypeScript sources (this repository, tests, benches). */
export const fromSources = here.endsWith('.ts');
/** `src/` when running from the sources. */
const srcRoot = fromSources ? join(dirname(here), '..', '..') : undefined;
/** `dist/` when running from the build: this code is in `dist/` itself or in `dist/chunks/`. */
export function distRoot(): string {
  const dir = dirname(here);
  return existsSync(join(dir, 'worker.js')) ? dir : dirname(dir);
}

function buildAt(dir: string): RuntimeBuild {
  return { dir, entry: (name) => pathToFileURL(join(dir, `${name}.js`)).href };
}

/** Cache of on-demand builds and job bundles: one per user, shared by processes (every entry is content-addressed). */
export function codeCacheDir(): string {
  let user = 'user';
  try {
    user = String(userInfo().uid);
  } catch {
    // No user database entry (some containers): one shared name is still safe, entries are content-addressed.
  }
  return process.env.BATON_CODE_CACHE ?? join(tmpdir(), `baton-code-${user}`);
}

let cached: Promise<RuntimeBuild> | undefined;
let cachedFingerprint: string | undefined;

/**
 * The runtime build worker threads load. From `dist/`: that folder. From the sources: a build of
 * them, made now if this version of the sources has none yet (about 0.3 s), else reused.
 *
 * @example const build = await runtimeBuild(); new Worker(new URL(build.entry('worker')));
 */
export function runtimeBuild(): Promise<RuntimeBuild> {
  if (!fromSources || srcRoot === undefined) {
    cached ??= Promise.resolve(buildAt(distRoot()));
    return cached;
  }
  const fingerprint = sourceFingerprint(srcRoot);
  if (cached && cachedFingerprint === fingerprint) return cached;
  cachedFingerprint = fingerprint;
  // The checkout's dist/ (built by `npm ci` / `npm run build`) when it is of these very sources.
  const dist = join(srcRoot, '..', 'dist');
  cached = isBuildOf(dist, srcRoot, fingerprint) ? Promise.resolve(buildAt(dist)) : buildSources(srcRoot, join(codeCacheDir(), `runtime-${fingerprint}`));
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

async function buildSources(root: string, dir: string): Promise<RuntimeBuild> {
  if (existsSync(join(dir, 'worker.js'))) return buildAt(dir);
  // Built next to its final name, then renamed: a concurrent process building the same sources
  // either finds the finished folder or loses the rename to an identical one.
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(dirname(dir), { recursive: true });
  try {
    await compileRuntime(root, staging, { dependencies: 'absolute' });
    try {
      renameSync(staging, dir);
    } catch (error) {
      if (!existsSync(join(dir, 'worker.js'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  pruneOldBuilds(dirname(dir), dir);
  return buildAt(dir);
}

/** Builds of older sources are left behind by every change; a day after their last build nothing runs from them any more. */
const KEEP_BUILDS_MS = 24 * 3_600_000;

function pruneOldBuilds(cache: string, current: string): void {
  const now = Date.now();
  for (const name of readdirSync(cache)) {
    const path = join(cache, name);
    if (path === current || !/^runtime-[0-9a-f]+(\.tmp-.*)?$/.test(name)) continue;
    try {
      if (now - statSync(path).mtimeMs > KEEP_BUILDS_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another process: nothing to do.
    }
  }
}

/**
 * Compiles `root` (baton's `src/`) into `outdir`: one ES module per entry of RUNTIME_ENTRIES plus
 * the chunks they share, dependencies left as imports: by name in the package's `dist/`, as
 * absolute file URLs in a cache build (which lives outside any node_modules tree).
 *
 * @example await compileRuntime('src', 'dist', { dependencies: 'by-name' });
 */
export async function compileRuntime(root: string, outdir: string, options: { readonly dependencies: 'by-name' | 'absolute'; readonly extraEntries?: Record<string, string> }): Promise<void> {
  const { build } = await import('esbuild');
  const { dependencyImports } = await import('./dependency-imports.ts');
  await build({
    plugins: [dependencyImports({ refer: options.dependencies, bundle: BUNDLED_DEPENDENCIES })],
    // Node's own choice of a package's files: its `exports` conditions and `main`, never `module`.
    conditions: [],
    mainFields: ['main'],
    entryPoints: Object.fromEntries(Object.entries({ ...RUNTIME_ENTRIES, ...options.extraEntries }).map(([name, file]) => [name, join(root, file)])),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'error',
  });
}
