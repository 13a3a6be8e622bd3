// A job module compiled once, on the main thread, into one ES module the worker threads import
// directly: no TypeScript loader in any worker, and its `baton` imports are the runtime build's own.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Metafile, Plugin } from 'esbuild';
import { JobModuleError } from '../errors.ts';
import { dependencyImports } from './dependency-imports.ts';
import { codeCacheDir, distRoot, RUNTIME_ENTRIES, type RuntimeBuild, type RuntimeEntry } from './runtime-build.ts';

/** `baton`, `baton/metrics`, `baton/internal`, `baton/testing`: the runtime build's entries. */
const PACKAGE_ENTRIES: Record<string, RuntimeEntry> = { baton: 'index', 'baton/metrics': 'metrics', 'baton/internal': 'internal', 'baton/testing': 'testing' };

/** baton's own `src/` (a job in baton's checkout may import its entries by path): where it runs from, or beside its dist/. */
const here = fileURLToPath(import.meta.url);
const ownSources = here.endsWith('.ts') ? join(dirname(here), '..', '..') : join(distRoot(), '..', 'src');
const srcRoot = existsSync(join(ownSources, 'index.ts')) ? ownSources : undefined;

const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' } as const;

/**
 * Bundles the job module at `moduleUrl` with the files it imports by relative path; packages stay
 * imports (by file URL), `baton` becomes the runtime build's entry. `import.meta.url` keeps naming
 * each file's original place, so a job that reads a file beside itself still finds it. The result
 * is content-addressed in the code cache: a job bundled before is bundled again (esbuild is fast)
 * but written only once.
 *
 * @example const url = await bundleJob(pathToFileURL('job.ts').href, await runtimeBuild());
 */
export async function bundleJob(moduleUrl: string, runtime: RuntimeBuild): Promise<string> {
  if (!moduleUrl.startsWith('file:')) throw new JobModuleError(moduleUrl, 'worker threads load job modules from files only (a file: URL or a path)');
  const entry = fileURLToPath(moduleUrl);
  // The same files as last time (same sizes and mtimes) against the same runtime: the same bundle,
  // without loading esbuild at all (its import and first build are ~100 ms of a start).
  const manifestFile = join(codeCacheDir(), 'jobs', `${createHash('sha256').update(`${entry}\0${runtime.dir}`).digest('hex').slice(0, 24)}.json`);
  const reused = reusableBundle(manifestFile);
  if (reused !== undefined) return reused;
  const { build } = await import('esbuild');
  const mapEntry = (specifier: string) => {
    const name = PACKAGE_ENTRIES[specifier];
    return name === undefined ? undefined : runtime.entry(name);
  };
  let result: { outputFiles: Array<{ contents: Uint8Array }>; metafile: Metafile };
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Node's own choice of a package's files: its `exports` conditions and `main`, never `module`.
      conditions: [],
      mainFields: ['main'],
      sourcemap: 'inline',
      metafile: true,
      absWorkingDir: dirname(entry),
      logLevel: 'silent',
      plugins: [runtimeSources(runtime), originalUrls(), dependencyImports({ map: mapEntry })],
    });
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const detail = errors?.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join('; ');
    throw new JobModuleError(moduleUrl, `cannot be compiled: ${detail ?? (error as Error).message}`, { cause: error });
  }
  const code = result.outputFiles[0].contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 24);
  const dir = join(codeCacheDir(), 'jobs');
  const file = join(dir, `${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const staging = `${file}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(staging, code);
    renameSync(staging, file);
  }
  const inputs = Object.keys(result.metafile.inputs).map((key) => resolvePath(dirname(entry), key));
  writeManifest(manifestFile, { output: file, inputs: inputs.map((path) => ({ path, ...fileStamp(path) })) });
  return pathToFileURL(file).href;
}

/** What a cached bundle was made from: each input file's size and mtime. */
interface BundleManifest {
  readonly output: string;
  readonly inputs: ReadonlyArray<{ readonly path: string; readonly size: number; readonly mtimeMs: number }>;
}

function fileStamp(path: string): { size: number; mtimeMs: number } {
  const s = statSync(path);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

/** The cached bundle's URL if every input is unchanged; undefined otherwise (or if the manifest is unreadable: then esbuild decides). */
function reusableBundle(manifestFile: string): string | undefined {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BundleManifest;
  } catch {
    return undefined;
  }
  // The cache is this user's, but still checked before use: a manifest naming anything outside
  // the jobs folder, or malformed, is ignored.
  if (typeof manifest?.output !== 'string' || dirname(manifest.output) !== dirname(manifestFile) || !Array.isArray(manifest.inputs) || manifest.inputs.length === 0) return undefined;
  try {
    for (const input of manifest.inputs) {
      const now = fileStamp(input.path);
      if (now.size !== input.size || now.mtimeMs !== input.mtimeMs) return undefined;
    }
    if (!existsSync(manifest.output)) return undefined;
  } catch {
    return undefined;
  }
  return pathToFileURL(manifest.output).href;
}

function writeManifest(manifestFile: string, manifest: BundleManifest): void {
  const staging = `${manifestFile}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(staging, JSON.stringify(manifest));
  renameSync(staging, manifestFile);
}

/**
 * A relative import that lands in baton's own `src/` (a job inside this repository): its entries
 * become the runtime build's, anything else is refused, since a second copy of a runtime module
 * in the job would not be the one the worker runs (its registries, classes and hooks apart).
 */
function runtimeSources(runtime: RuntimeBuild): Plugin {
  const entries = new Map(Object.entries(RUNTIME_ENTRIES).map(([name, file]) => [join(srcRoot ?? '', file), name as RuntimeEntry]));
  return {
    name: 'baton-runtime-sources',
    setup(build) {
      if (srcRoot === undefined) return;
      build.onResolve({ filter: /^\./ }, (args) => {
        const path = join(args.resolveDir, args.path);
        const inSrc = relative(srcRoot, path);
        if (inSrc.startsWith('..') || inSrc.startsWith(sep)) return undefined;
        const name = entries.get(path);
        if (name === undefined) {
          return { errors: [{ text: `imports baton's internal file src/${inSrc}: a job module imports 'baton' (or, in baton's own tests, src/internal.ts) so that it shares the worker's runtime` }] };
        }
        return { path: runtime.entry(name), external: true };
      });
    },
  };
}

/** Replaces `import.meta.url` (and `dirname`/`filename`) in the job's own files with where they really are. */
function originalUrls(): Plugin {
  return {
    name: 'baton-original-urls',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const loader = LOADERS[extname(args.path) as keyof typeof LOADERS];
        if (loader === undefined) return undefined;
        const source = readFileSync(args.path, 'utf8');
        const contents = source
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
        return { contents, loader };
      });
    },
  };
}
