// Declared job parameters: typed, with defaults and required flags, checked before anything starts.
import { JobConfigError, registerErrors, UnknownOptionError } from '../runtime/index.ts';
import type { JobParam, JobParamSpec } from '../runtime/types.ts';

const PARAM = Symbol('baton.JobParamDeclaration');

/**
 * A job parameter is missing or has a value its declaration refuses (wrong type, not a choice, out
 * of bounds); nothing was started. `param` names it, `declared` describes every declared one (one
 * line each, as `baton check` prints them). `code` is stable.
 *
 * @example catch (e) { if (e instanceof JobParamError) console.error(e.param, e.declared.join('\n')); }
 */
export class JobParamError extends JobConfigError {
  static override readonly code: string = 'BATON_ERR_JOB_PARAM';
  override name = 'JobParamError';
  constructor(
    readonly param: string,
    message: string,
    readonly declared: readonly string[],
  ) {
    super(`param '${param}'`, message);
  }
}

/**
 * One declared parameter, made by `param.string/number/boolean`. `Present` is true when the job
 * always gets a value (a default, or required).
 */
export interface ParamDeclaration<T extends JobParam, Present extends boolean> {
  readonly [PARAM]: true;
  readonly spec: JobParamSpec;
  /** @internal Type-level only. */
  readonly __value?: T;
  /** @internal Type-level only. */
  readonly __present?: Present;
}

export type ParamDeclarations = Readonly<Record<string, ParamDeclaration<JobParam, boolean>>>;

/** The values a job's builder gets for its declarations: optional ones without a default may be undefined. */
export type ParamValues<D extends ParamDeclarations> = {
  readonly [K in keyof D]: D[K] extends ParamDeclaration<infer T, infer P> ? (P extends true ? T : T | undefined) : never;
};

interface Common {
  /** One line for `baton check` and error messages. */
  readonly description?: string;
}

type StringOptions = Common & { readonly choices?: readonly string[] };
type NumberOptions = Common & { readonly min?: number; readonly max?: number; readonly integer?: boolean };

function declare<T extends JobParam, P extends boolean>(spec: JobParamSpec): ParamDeclaration<T, P> {
  return { [PARAM]: true, spec };
}

function common(type: JobParamSpec['type'], options: (Common & { default?: unknown; required?: unknown }) | undefined, extra: string[]): Pick<JobParamSpec, 'required' | 'description'> {
  const where = `param.${type}()`;
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new JobConfigError(where, 'options must be an object');
  const known = ['default', 'required', 'description', ...extra];
  for (const key of Object.keys(options ?? {})) if (!known.includes(key)) throw new UnknownOptionError(`${where} ${key}`, key, known);
  if (options?.required !== undefined && typeof options.required !== 'boolean') throw new JobConfigError(`${where} required`, 'must be a boolean');
  if (options?.required === true && options.default !== undefined) throw new JobConfigError(where, 'a required parameter has no default: give one or the other');
  if (options?.description !== undefined && typeof options.description !== 'string') throw new JobConfigError(`${where} description`, 'must be a string');
  return { required: options?.required === true, ...(options?.description !== undefined ? { description: options.description } : {}) };
}

function string(options: StringOptions & { readonly default: string; readonly required?: false }): ParamDeclaration<string, true>;
function string(options: StringOptions & { readonly required: true }): ParamDeclaration<string, true>;
function string(options?: StringOptions & { readonly required?: false }): ParamDeclaration<string, false>;
function string(options?: StringOptions & { readonly default?: string; readonly required?: boolean }): ParamDeclaration<string, boolean> {
  const base = common('string', options, ['choices']);
  const choices = options?.choices;
  if (choices !== undefined && (!Array.isArray(choices) || choices.length === 0 || !choices.every((c) => typeof c === 'string'))) {
    throw new JobConfigError('param.string() choices', 'must be a non-empty array of strings');
  }
  const spec: JobParamSpec = { type: 'string', ...base, ...(choices ? { choices: [...choices] } : {}) };
  if (options?.default !== undefined) return declare({ ...spec, default: convert('default', spec, options.default) });
  return declare(spec);
}

function number(options: NumberOptions & { readonly default: number; readonly required?: false }): ParamDeclaration<number, true>;
function number(options: NumberOptions & { readonly required: true }): ParamDeclaration<number, true>;
function number(options?: NumberOptions & { readonly required?: false }): ParamDeclaration<number, false>;
function number(options?: NumberOptions & { readonly default?: number; readonly required?: boolean }): ParamDeclaration<number, boolean> {
  const base = common('number', options, ['min', 'max', 'integer']);
  for (const bound of ['min', 'max'] as const) {
    const v = options?.[bound];
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v))) throw new JobConfigError(`param.number() ${bound}`, 'must be a number');
  }
  if (options?.integer !== undefined && typeof options.integer !== 'boolean') throw new JobConfigError('param.number() integer', 'must be a boolean');
  const spec: JobParamSpec = {
    type: 'number',
    ...base,
    ...(options?.min !== undefined ? { min: options.min } : {}),
    ...(options?.max !== undefined ? { max: options.max } : {}),
    ...(options?.integer ? { integer: true } : {}),
  };
  if (options?.default !== undefined) return declare({ ...spec, default: convert('default', spec, options.default) });
  return declare(spec);
}

function boolean(options: Common & { readonly default: boolean; readonly required?: false }): ParamDeclaration<boolean, true>;
function boolean(options: Common & { readonly required: true }): ParamDeclaration<boolean, true>;
function boolean(options?: Common & { readonly required?: false }): ParamDeclaration<boolean, false>;
function boolean(options?: Common & { readonly default?: boolean; readonly required?: boolean }): ParamDeclaration<boolean, boolean> {
  const spec: JobParamSpec = { type: 'boolean', ...common('boolean', options, []) };
  if (options?.default !== undefined) return declare({ ...spec, default: convert('default', spec, options.default) });
  return declare(spec);
}

/**
 * Declares the parameters of a job (`defineJob({ params: { ... } }, (env, params) => ...)`).
 * Values from `baton run --param k=v` or runJob's `params` are converted to the declared type
 * (`'200'` to 200, `'true'` to true; a number given for a string is taken as its text) and checked
 * before anything starts: a missing required one or a value of the wrong type is a JobConfigError
 * naming the parameter, and so is one the job does not declare.
 *
 * @example
 * export default defineJob(
 *   { params: { clicks: param.number({ default: 200_000, integer: true, min: 1 }), region: param.string({ required: true }), dryRun: param.boolean() } },
 *   (env, { clicks, region, dryRun }) => { ... },
 * );
 */
export const param = { string, number, boolean };

export function isParamDeclaration(value: unknown): value is ParamDeclaration<JobParam, boolean> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PARAM] === true;
}

function usage(spec: JobParamSpec): string {
  return spec.choices ? spec.choices.join('|') : `<${spec.type}>`;
}

/** `value` as the declared type, or a JobConfigError naming the parameter. */
function convert(name: string, spec: JobParamSpec, value: JobParam, declared: readonly string[] = []): JobParam {
  const fail = (message: string) => (name === 'default' ? new JobConfigError(`param.${spec.type}() default`, message) : new JobParamError(name, message, declared));
  const wrong = (what: string) => fail(`expected ${what}, got ${typeof value === 'string' ? `'${value}'` : `${typeof value} ${String(value)}`}`);
  switch (spec.type) {
    case 'string': {
      // `baton run --param k=123` types values by their look before the job's declaration is known.
      const s = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      if (s === undefined) throw wrong('a string');
      if (spec.choices && !spec.choices.includes(s)) throw fail(`must be one of ${spec.choices.join(', ')}, got '${s}'`);
      return s;
    }
    case 'number': {
      let n: number | undefined;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'string' && value.trim() !== '') n = Number(value);
      if (n === undefined || !Number.isFinite(n)) throw wrong('a number');
      if (spec.integer && !Number.isInteger(n)) throw fail(`must be an integer, got ${n}`);
      if (spec.min !== undefined && n < spec.min) throw fail(`must be >= ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw fail(`must be <= ${spec.max}, got ${n}`);
      return n;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw wrong("true or false");
  }
}

/** The specs of validated declarations, for the job definition (what `baton check` reports). */
export function paramSpecs(declarations: unknown): Record<string, JobParamSpec> {
  if (typeof declarations !== 'object' || declarations === null || Array.isArray(declarations)) {
    throw new JobConfigError('defineJob params', 'expected an object of declarations such as { clicks: param.number({ default: 1000 }) }');
  }
  const specs: Record<string, JobParamSpec> = {};
  for (const [name, declaration] of Object.entries(declarations)) {
    if (!isParamDeclaration(declaration)) throw new JobConfigError(`defineJob params.${name}`, 'expected a declaration made with param.string(), param.number() or param.boolean()');
    if (name.length === 0 || name.includes('=')) throw new JobConfigError(`defineJob params.${name}`, "a parameter name must be non-empty and contain no '='");
    specs[name] = declaration.spec;
  }
  return specs;
}

/**
 * The job's parameter values from what it was given: converted, defaults filled in, checked. Throws
 * JobConfigError naming the first parameter at fault (UnknownOptionError for one not declared).
 *
 * @example resolveParams({ clicks: { type: 'number', required: false, default: 10 } }, { clicks: '20' }) // { clicks: 20 }
 */
export function resolveParams(specs: Readonly<Record<string, JobParamSpec>>, given: Readonly<Record<string, JobParam>>): Record<string, JobParam | undefined> {
  const names = Object.keys(specs);
  for (const key of Object.keys(given)) if (!(key in specs)) throw new UnknownOptionError(`param '${key}'`, key, names);
  const values: Record<string, JobParam | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = given[name];
    if (value === undefined) {
      if (spec.required) {
        throw new JobParamError(name, `is required${spec.description ? ` (${spec.description})` : ''}: pass --param ${name}=${usage(spec)} to baton run, or params.${name} to runJob`, describeParams(specs));
      }
      values[name] = spec.default;
      continue;
    }
    values[name] = convert(name, spec, value, describeParams(specs));
  }
  return values;
}

/** One line per declared parameter, e.g. `clicks: number, default 200000 (clicks to generate)`. */
export function describeParams(specs: Readonly<Record<string, JobParamSpec>>): string[] {
  return Object.entries(specs).map(([name, spec]) => {
    const parts: string[] = [spec.choices ? `string (${spec.choices.join('|')})` : spec.type];
    if (spec.integer) parts[0] = 'integer';
    if (spec.min !== undefined || spec.max !== undefined) parts.push(`in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`);
    if (spec.required) parts.push('required');
    else if (spec.default !== undefined) parts.push(`default ${JSON.stringify(spec.default)}`);
    else parts.push('optional');
    return `${name}: ${parts.join(', ')}${spec.description ? ` (${spec.description})` : ''}`;
  });
}

registerErrors(JobParamError);
