// Type-checks a job module with the TypeScript that the job's project (or else baton) has installed.
// `typescript` is not a dependency of baton: it is loaded lazily, and its absence is reported
// as a reason the type-check was skipped, never passed over in silence.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BatonInternalError } from '../../errors/index.ts';

/** What the type-check did: found errors (possibly none), or why it could not run. */
export type TypeCheckResult =
  | {
      readonly kind: 'checked';
      readonly typescriptVersion: string;
      /** The tsconfig.json whose options applied; undefined: none contains the job, TypeScript's defaults applied. */
      readonly configFile: string | undefined;
      /** One line per error: `path:line:column - error TS<code>: message`. */
      readonly errors: readonly string[];
    }
  | { readonly kind: 'skipped'; readonly reason: string };

/** The part of TypeScript 7's `typescript/unstable/sync` API used here. */
interface TsDiagnostic {
  readonly fileName?: string;
  readonly pos: number;
  readonly code: number;
  readonly category: number;
  readonly text: string;
  readonly messageChain?: readonly TsDiagnostic[];
}
interface TsProgram {
  getSyntacticDiagnostics(file?: string): readonly TsDiagnostic[];
  getSemanticDiagnostics(file?: string): readonly TsDiagnostic[];
  getProgramDiagnostics(): readonly TsDiagnostic[];
  getConfigFileParsingDiagnostics(): readonly TsDiagnostic[];
}
interface TsSyncApi {
  API: new (options: { cwd?: string }) => {
    updateSnapshot(params: { openFiles: string[] }): { getDefaultProjectForFile(file: string): { configFileName: string; program: TsProgram } | undefined };
    close(): void;
  };
  DiagnosticCategory: { readonly Error: number };
}

/** Where `typescript` resolves from: the job's folder first (the user's project), then baton itself. */
function findTypeScript(lookFrom: readonly string[]): { require: NodeJS.Require; version: string } | undefined {
  for (const from of lookFrom) {
    const require = createRequire(from);
    try {
      const manifest = require.resolve('typescript/package.json');
      const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: unknown };
      if (typeof version === 'string') return { require, version };
    } catch {
      // Not installed where this require looks; try the next place.
    }
  }
  return undefined;
}

/**
 * Type-checks `jobPath` (syntax and types of the job file, with the options of the tsconfig.json
 * that contains it) using TypeScript ≥ 7 resolved from `lookFrom` (default: the job's folder,
 * then baton's), the first place that has it.
 *
 * @example
 * const result = await typeCheckJob('/work/jobs/orders.ts');
 * if (result.kind === 'skipped') console.warn(`warning: type-check skipped: ${result.reason}`);
 */
export async function typeCheckJob(jobPath: string, lookFrom: readonly string[] = [jobPath, fileURLToPath(import.meta.url)]): Promise<TypeCheckResult> {
  const found = findTypeScript(lookFrom);
  if (!found) {
    const places = lookFrom.map((from) => dirname(from));
    return { kind: 'skipped', reason: `the 'typescript' package is not installed (looked from ${places.join(' and ')}); install it with npm install --save-dev typescript` };
  }
  const major = Number.parseInt(found.version, 10);
  if (!(major >= 7)) {
    return { kind: 'skipped', reason: `typescript ${found.version} is installed, but the check uses the API of typescript 7 or newer; install it with npm install --save-dev typescript@7` };
  }
  const ts = (await import(pathToFileURL(found.require.resolve('typescript/unstable/sync')).href)) as TsSyncApi;
  const api = new ts.API({ cwd: dirname(jobPath) });
  try {
    const project = api.updateSnapshot({ openFiles: [jobPath] }).getDefaultProjectForFile(jobPath);
    if (!project) throw new BatonInternalError(`typescript ${found.version} put ${jobPath} in no project`);
    // Without a tsconfig.json TypeScript makes an "inferred" project whose config file does not exist.
    const configFile = existsSync(project.configFileName) ? project.configFileName : undefined;
    const program = project.program;
    const diagnostics = [
      ...(configFile ? [...program.getConfigFileParsingDiagnostics(), ...program.getProgramDiagnostics()] : []),
      ...program.getSyntacticDiagnostics(jobPath),
      ...program.getSemanticDiagnostics(jobPath),
    ];
    const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).map((d) => formatDiagnostic(d, configFile ?? jobPath));
    return { kind: 'checked', typescriptVersion: found.version, configFile, errors };
  } finally {
    api.close();
  }
}

/** `path:line:column - error TS<code>: message`, the path relative to the working directory (when inside it) as tsc prints it. */
export function formatDiagnostic(diagnostic: TsDiagnostic, fallbackFile: string): string {
  const file = diagnostic.fileName ?? fallbackFile;
  const where = diagnostic.fileName && existsSync(file) ? `:${lineAndColumn(readFileSync(file, 'utf8'), diagnostic.pos)}` : '';
  const chain = (diagnostic.messageChain ?? []).map((d) => d.text);
  return `${displayPath(file)}${where} - error TS${diagnostic.code}: ${[diagnostic.text, ...chain].join(' ')}`;
}

/** A path relative to the working directory when it lies inside it, else absolute. */
export function displayPath(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? file : inside;
}

/** 1-based `line:column` of a UTF-16 offset, as editors count them. */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `${line}:${column}`;
}
