// Which record values a channel carries faithfully, checked the same way on the local and the cross-thread path.

/**
 * Values the batch codec (msgpackr, see batch-codec.ts) gives back as they were, so a record
 * means the same to the next operator whether it runs on this thread or another:
 * - strings, numbers (NaN and ±Infinity too; `-0` arrives as `0`, the same key and `===` value),
 *   booleans, `null`, `undefined` (also as an object property or array element), bigints of any size;
 * - plain objects (prototype `Object.prototype`, or `null`: such an object arrives with
 *   `Object.prototype`), arrays (a hole arrives as `undefined`), `Map`s, `Date`s;
 * - `Uint8Array`s (and `Buffer`s): the same bytes, arriving as a `Buffer` (a `Uint8Array` subclass).
 *
 * Anything else is refused: functions and symbols (msgpackr drops the first, throws on the
 * second), class instances (they would arrive as plain objects without their methods), `Set`s,
 * `RegExp`s, `Error`s, other typed arrays, `ArrayBuffer`s and boxed primitives (each arrives as
 * something else), and nesting deeper than {@link MAX_RECORD_DEPTH} (a cycle, most likely).
 * Symbol-keyed properties are not looked at (msgpackr skips them; checking would cost every object).
 *
 * Channel state (unaligned checkpoints) holds only records that passed this check, encoded with
 * a superset of these types (moreTypes), so it keeps them. Keyed state values are not checked:
 * their snapshots (msgpackr with moreTypes) keep Sets, RegExps, Errors and typed arrays too, but
 * a function or class instance held in state changes at a restore (or, on LMDB, at once).
 */
export const MAX_RECORD_DEPTH = 256;

/** Where in a record the first value a channel cannot carry sits, and what it is. */
export interface UnsupportedValue {
  /** e.g. `record.payload.fn`, `record[3]`, `record<Map value>`. */
  readonly path: string;
  /** e.g. `function`, `symbol`, `instance of class Point`, `Set`. */
  readonly type: string;
}

/**
 * The first value inside `record` a channel cannot carry faithfully, or undefined when it can
 * carry all of it. Primitives cost one `typeof`; objects are walked once, without allocating
 * (the path is only built for a value that fails).
 *
 * @example
 * ```ts
 * findUnsupportedValue({ id: 1, tags: ['a'] }); // undefined
 * findUnsupportedValue({ payload: { fn: () => 1 } }); // { path: 'record.payload.fn', type: 'function' }
 * ```
 */
export function findUnsupportedValue(record: unknown): UnsupportedValue | undefined {
  if (isFaithful(record, 0)) return undefined;
  return locate(record, 'record', 0);
}

// Hot path (every record leaving a chain): typeof first, arrays before the prototype lookup,
// for-in over plain objects (V8's enum cache makes it the fastest walk, measured).
function isFaithful(value: unknown, depth: number): boolean {
  const type = typeof value;
  if (type !== 'object') return type !== 'function' && type !== 'symbol';
  return value === null || isFaithfulObject(value as object, depth);
}

function isFaithfulObject(value: object, depth: number): boolean {
  if (depth >= MAX_RECORD_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isFaithful(value[i], depth + 1)) return false;
    // A subclass of Array would arrive as a plain array.
    return Object.getPrototypeOf(value) === Array.prototype;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const object = value as Record<string, unknown>;
    for (const key in object) if (!isFaithful(object[key], depth + 1)) return false;
    return true;
  }
  if (proto === Map.prototype) {
    for (const [k, v] of value as Map<unknown, unknown>) if (!isFaithful(k, depth + 1) || !isFaithful(v, depth + 1)) return false;
    return true;
  }
  return proto === Date.prototype || proto === Uint8Array.prototype || proto === Buffer.prototype;
}

/** The slow path, for a record known to hold something unsupported: finds it again, with its path. */
function locate(value: unknown, path: string, depth: number): UnsupportedValue | undefined {
  if (typeof value !== 'object' || value === null) return isFaithful(value, depth) ? undefined : { path, type: typeOf(value) };
  if (depth >= MAX_RECORD_DEPTH) return { path, type: `nesting deeper than ${MAX_RECORD_DEPTH} levels (a cycle?)` };
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const object = value as Record<string, unknown>;
    for (const key in object) {
      const found = locate(object[key], `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) return { path, type: typeOf(value) };
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      const found = locate(array[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (proto === Map.prototype) {
    for (const [k, v] of value as Map<unknown, unknown>) {
      const found = locate(k, `${path}<Map key>`, depth + 1) ?? locate(v, `${path}<Map value>`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  return isFaithfulObject(value, depth) ? undefined : { path, type: typeOf(value) };
}

function typeOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const builtIn = typeof name === 'string' && (globalThis as Record<string, unknown>)[name] === (value as { constructor: unknown }).constructor;
  if (builtIn) return name;
  return typeof name === 'string' && name !== '' ? `instance of class ${name}` : 'object with a custom prototype';
}
