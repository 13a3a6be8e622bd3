// esbuild plugin: leaves every package import out of the bundle, pointing at the file Node would load.
import { isBuiltin } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

/** Bare specifiers (`lmdb`, `@aws-sdk/client-s3`, `msgpackr/pack`) start with a letter or `@` (esbuild's filters are Go regexps: no lookahead). */
const BARE = /^[A-Za-z@]/;
/** …but a Windows drive path or a URL is not one. */
const NOT_BARE = /^(?:[A-Za-z]:[\\/]|[A-Za-z][A-Za-z0-9+.-]*:\/\/|file:)/;

/**
 * Resolves each package import as Node would from the importing file (esbuild's resolver with
 * Node's conditions) and keeps it as an import of that file's URL, so the output runs from any
 * folder (a cache outside node_modules) and loads the very files the sources would.
 *
 * @example await build({ entryPoints: ['job.ts'], bundle: true, plugins: [dependencyImports()] });
 */
export function dependencyImports(
  options: {
    /** `absolute` (default): file URLs; `by-name`: the specifier as written (a package's own build, resolved from its node_modules). */
    readonly refer?: 'absolute' | 'by-name';
    /** Packages compiled into the output instead (tree-shaken: zod's import is a third of its full one). */
    readonly bundle?: readonly string[];
    readonly map?: (specifier: string) => string | undefined;
  } = {},
): Plugin {
  const bundled = (specifier: string) => options.bundle?.some((name) => specifier === name || specifier.startsWith(`${name}/`)) === true;
  return {
    name: 'baton-dependency-imports',
    setup(build) {
      build.onResolve({ filter: BARE }, async (args) => {
        if (args.pluginData?.bareResolve === true || NOT_BARE.test(args.path)) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const mapped = options.map?.(args.path);
        if (mapped !== undefined) return { path: mapped, external: true };
        if (bundled(args.path)) return undefined;
        if (options.refer === 'by-name') return { path: args.path, external: true };
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { bareResolve: true } });
        if (found.errors.length > 0) return { errors: found.errors };
        return { path: pathToFileURL(found.path).href, external: true };
      });
    },
  };
}
