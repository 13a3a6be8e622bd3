// An in-memory CheckpointStorage for tests: a sorted Map of keys, with failures that can be injected.
import type { CheckpointStorage } from '../../src/checkpoint/storage/types.ts';

/** Operations a failure can be injected into. */
export type MemoryOperation = 'put' | 'get' | 'exists' | 'list' | 'delete';

interface Failure {
  readonly op: MemoryOperation;
  readonly match: RegExp;
  readonly error: () => Error;
}

/** Thrown by `get` for a missing key, like the real storages' not-found error. */
export class MemoryNotFoundError extends Error {
  override name = 'MemoryNotFoundError';
}

/**
 * Map-backed storage with the same key rules as the real ones (relative, no empty, `.` or `..`
 * segments) and folder-style list prefixes (`chk-1` lists `chk-1/...`, not `chk-10/...`).
 *
 * @example
 * const storage = new MemoryStorage();
 * storage.failOn('put', /^shared\//); // every chunk upload throws
 */
export class MemoryStorage implements CheckpointStorage {
  readonly uri: string;
  readonly objects = new Map<string, Uint8Array>();
  /** Every call, in order, as `op key` (list: `list prefix`), for asserting what was touched. */
  readonly calls: string[] = [];
  #failures: Failure[] = [];

  constructor(uri = 'memory://jobs/test-job') {
    this.uri = uri;
  }

  /** Makes `op` throw for keys (or list prefixes) matching `match`, until {@link clearFailures}. */
  failOn(op: MemoryOperation, match: RegExp, error: () => Error = () => new Error(`injected ${op} failure`)): void {
    this.#failures.push({ op, match, error });
  }

  clearFailures(): void {
    this.#failures = [];
  }

  /** Stores a UTF-8 string or bytes without going through `put` (no call recorded, no failure). */
  seed(key: string, data: Uint8Array | string = ''): void {
    this.objects.set(key, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    this.#enter('put', key);
    // Copy, as a real storage would: later changes to the caller's buffer must not leak in.
    this.objects.set(key, data.slice());
  }

  /** Creates `key` only if absent; a `put` failure injected for the key applies here too (it is a write). */
  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    checkKey(key);
    this.#fail('put', key);
    this.calls.push(`putIfAbsent ${key}`);
    if (this.objects.has(key)) return false;
    this.objects.set(key, data.slice());
    return true;
  }

  async get(key: string): Promise<Uint8Array> {
    this.#enter('get', key);
    const data = this.objects.get(key);
    if (data === undefined) throw new MemoryNotFoundError(`no object '${key}' in ${this.uri}`);
    return data.slice();
  }

  async exists(key: string): Promise<boolean> {
    this.#enter('exists', key);
    return this.objects.has(key);
  }

  async list(prefix: string): Promise<string[]> {
    const folder = prefix.replace(/\/$/, '');
    if (folder !== '') checkKey(folder);
    this.#fail('list', prefix);
    this.calls.push(`list ${prefix}`);
    return [...this.objects.keys()].filter((key) => folder === '' || key.startsWith(`${folder}/`)).sort();
  }

  /** Folders directly under `prefix`; a `list` failure injected for the prefix applies here too. */
  async listFolders(prefix: string): Promise<string[]> {
    const folder = prefix.replace(/\/$/, '');
    if (folder !== '') checkKey(folder);
    this.#fail('list', prefix);
    this.calls.push(`listFolders ${prefix}`);
    const base = folder === '' ? '' : `${folder}/`;
    const names = new Set<string>();
    for (const key of this.objects.keys()) {
      if (!key.startsWith(base)) continue;
      const rest = key.slice(base.length).split('/');
      if (rest.length > 1) names.add(rest[0]);
    }
    return [...names].sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) checkKey(key);
    for (const key of keys) this.#fail('delete', key);
    for (const key of keys) {
      this.calls.push(`delete ${key}`);
      this.objects.delete(key);
    }
  }

  async close(): Promise<void> {}

  #enter(op: MemoryOperation, key: string): void {
    checkKey(key);
    this.#fail(op, key);
    this.calls.push(`${op} ${key}`);
  }

  #fail(op: MemoryOperation, key: string): void {
    const failure = this.#failures.find((f) => f.op === op && f.match.test(key));
    if (failure) throw failure.error();
  }
}

function checkKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.includes('\\') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`invalid storage key ${JSON.stringify(key)}`);
  }
}
