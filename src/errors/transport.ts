// Errors across a thread boundary: a worker sends what it threw as plain data; the other side
// rebuilds it as its own class (a registered BatonError class, a built-in Error class, or, for a
// class it does not know, a ForeignError), with its fields, code, cause and the original stack.
import { BatonError, ForeignError } from './baton-error.ts';
import { errorClassOf } from './registry.ts';

/** Anything thrown, as it crosses threads: an error, or (for `throw 'text'` and the like) the value itself. */
export type SerializedThrown = SerializedError | { readonly kind: 'value'; readonly value: unknown };

/** An Error as plain data that structured clone (postMessage) keeps. */
export interface SerializedError {
  /** `baton`: a BatonError, rebuilt by its code; `builtin`: Error, TypeError, ...; `foreign`: any other class. */
  readonly kind: 'baton' | 'builtin' | 'foreign';
  readonly name: string;
  readonly message: string;
  /** The stack of the thread that threw it. */
  readonly stack: string;
  /** The error's `code`, when it is a string (a BatonError's, or e.g. Node's `ENOENT`). */
  readonly code?: string;
  /** Its own enumerable fields (a foreign error's only when they are plain values). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Present when the error has a `cause`. */
  readonly cause?: SerializedThrown;
  /** An AggregateError's errors. */
  readonly errors?: readonly SerializedThrown[];
}

const BUILTINS: Readonly<Record<string, new (message?: string) => Error>> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };
/** Causes deeper than this are cut (a cause chain can loop). */
const MAX_CAUSE_DEPTH = 8;
/** Own properties carried outside `fields`. */
const CARRIED = new Set(['name', 'message', 'stack', 'cause']);

/**
 * `thrown` as plain data for postMessage. Never throws: a field that cannot cross becomes a short text.
 *
 * @example port.postMessage({ type: 'failed', error: serializeThrown(error) });
 */
export function serializeThrown(thrown: unknown, depth = 0): SerializedThrown {
  if (!(thrown instanceof Error)) return { kind: 'value', value: crossable(thrown) };
  return serializeError(thrown, depth);
}

/** An Error as plain data (see {@link serializeThrown}). @example serializeError(new StorageIoError(...)).code // 'BATON_ERR_STORAGE_IO' */
export function serializeError(error: Error, depth = 0): SerializedError {
  const kind = error instanceof BatonError ? 'baton' : isBuiltin(error) ? 'builtin' : 'foreign';
  const own = error as unknown as Record<string, unknown>;
  const code = typeof own.code === 'string' ? own.code : undefined;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (CARRIED.has(key) || (key === 'code' && code !== undefined)) continue;
    const value = own[key];
    // A library's error may hold sockets, requests, responses: only its plain values cross.
    if (kind === 'baton') fields[key] = crossable(value);
    else if (isPlainValue(value)) fields[key] = value;
  }
  const serialized: { -readonly [K in keyof SerializedError]: SerializedError[K] } = {
    kind,
    name: String(error.name),
    message: String(error.message),
    stack: typeof error.stack === 'string' ? error.stack : `${error.name}: ${error.message}`,
    fields,
  };
  if (code !== undefined) serialized.code = code;
  if (Object.hasOwn(error, 'cause') && depth < MAX_CAUSE_DEPTH) serialized.cause = serializeThrown(error.cause, depth + 1);
  if (error instanceof AggregateError && Array.isArray(error.errors)) serialized.errors = error.errors.map((e: unknown) => serializeThrown(e, depth + 1));
  return serialized;
}

/** The thrown value again (see {@link reviveError}). @example reviveThrown(serializeThrown('boom')) // 'boom' */
export function reviveThrown(serialized: SerializedThrown): unknown {
  return serialized.kind === 'value' ? serialized.value : reviveError(serialized);
}

/**
 * The error again, in this thread: a BatonError of a registered code as that class (built without
 * running its constructor, so every field is the original's), a built-in as that built-in, any
 * other class as a {@link ForeignError} carrying its name, code and fields. Its `stack` is the
 * original thread's; its `cause` is revived the same way.
 *
 * @example const error = reviveError(event.error); error instanceof StorageIoError // as thrown in the worker
 */
export function reviveError(serialized: SerializedError): Error {
  const { kind, name, message, code } = serialized;
  const registered = kind === 'baton' && code !== undefined ? errorClassOf(code) : undefined;
  let error: Error;
  if (registered !== undefined) {
    error = Reflect.construct(Error, [message], registered) as Error;
    define(error, 'name', name, true);
    define(error, 'code', code, true);
  } else if (kind === 'builtin' && (name === 'AggregateError' || Object.hasOwn(BUILTINS, name))) {
    error = name === 'AggregateError' ? new AggregateError((serialized.errors ?? []).map(reviveThrown), message) : new BUILTINS[name](message);
    if (code !== undefined) define(error, 'code', code, true);
  } else {
    error = new ForeignError(name, code, message);
  }
  for (const [key, value] of Object.entries(serialized.fields)) define(error, key, value, true);
  define(error, 'stack', serialized.stack, false);
  if (serialized.cause !== undefined) define(error, 'cause', reviveThrown(serialized.cause), false);
  return error;
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
}

/** An instance of a built-in class itself (a user's `class Oops extends Error` is not, even named 'Error'). */
function isBuiltin(error: Error): boolean {
  const proto = Object.getPrototypeOf(error);
  if (error.name === 'AggregateError') return proto === AggregateError.prototype;
  return Object.hasOwn(BUILTINS, error.name) && proto === BUILTINS[error.name].prototype;
}

function isPlainValue(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean', 'bigint', 'undefined'].includes(typeof value);
}

/** `value` as structured clone keeps it, or a short text saying what it was. */
function crossable(value: unknown): unknown {
  if (isPlainValue(value)) return value;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return `[function ${value.name || '(anonymous)'}]`;
  try {
    return structuredClone(value);
  } catch {
    return `[${(value as object).constructor?.name ?? 'object'} that cannot cross threads]`;
  }
}
