// Checkpoint storage in a local directory: atomic writes by temp file + fsync + rename (or link, to create only if absent).
import { randomBytes } from 'node:crypto';
import { closeSync, type Dirent, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { readdir, readFile, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobConfigError } from '../../errors/index.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { type StorageOperation, redactUserInfo, StorageIoError, StorageNotFoundError, StorageTimeoutError } from './errors.ts';
import { compareKeys, normalizeListPrefix, storageKeyProblem, TEMP_MARKER, validateStorageKey } from './storage-key.ts';
import { resolveStorageTimeouts, StorageAttemptTimeoutError, type StorageTimeouts, withDeadline } from './timeouts.ts';
import type { CheckpointStorage } from './types.ts';

/** Parallel unlinks in one `delete` call; enough to hide latency without exhausting descriptors. */
const DELETE_CONCURRENCY = 16;
/** Retries of a write whose directory a concurrent `delete` pruned between mkdir and open. */
const PUT_DIRECTORY_RETRIES = 5;

/**
 * Storage rooted at a local directory, given as `file:///abs/dir` or a plain (absolute or relative)
 * path. The directory is created on the first write.
 *
 * `put` writes `<key>.tmp-<random>`, fsyncs it, renames it over the key and fsyncs the directory,
 * so a reader (or a restart after a crash) sees either the old object, or the whole new one, and
 * never a torn file. `list` skips such temp files. `delete` also removes folders it leaves empty.
 * `putIfAbsent` writes the temp file the same way, then hard-links it to the key: `link` is
 * atomic and fails with EEXIST when the key exists (a rename would silently replace it), so of
 * two concurrent creators exactly one wins, and a reader sees nothing or the whole object.
 *
 * Reads, listings and deletes run under a deadline (`timeouts.requestMs`): a hung file system
 * (a stale network mount) fails them with a StorageTimeoutError naming the key instead of
 * waiting forever. A local file system error is not retried (EIO or ENOSPC do not go away by
 * asking again). `put` is synchronous on purpose (see writeAtomically) and so cannot be abandoned
 * part way; its failures are StorageIoErrors like every other.
 *
 * @example
 * ```ts
 * const storage = new FileStorage('file:///data/checkpoints');
 * await storage.put('orders/chk-1/_metadata', bytes);
 * await storage.list('orders/chk-1'); // ['orders/chk-1/_metadata']
 * ```
 */
export class FileStorage implements CheckpointStorage {
  readonly uri: string;
  /** Absolute path of the root directory. */
  readonly directory: string;
  readonly #timeouts: StorageTimeouts;

  constructor(uriOrPath: string, options: { readonly timeouts?: Partial<StorageTimeouts> } = {}) {
    this.directory = directoryOf(uriOrPath);
    this.uri = pathToFileURL(this.directory).href;
    this.#timeouts = resolveStorageTimeouts(options.timeouts);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const path = this.#path(key);
    try {
      await writeAtomically(path, data);
    } catch (error) {
      throw new StorageIoError(this.uri, key, 'put', error);
    }
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const path = this.#path(key);
    try {
      return await writeAtomically(path, data, linkIfAbsent);
    } catch (error) {
      throw new StorageIoError(this.uri, key, 'put', error);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.#path(key);
    try {
      return await this.#bounded((signal) => readFile(path, { signal }));
    } catch (error) {
      if (error instanceof StorageAttemptTimeoutError) throw this.#timedOut('get', key, error);
      // A folder or a path through a file is "no such object", as it would be on S3.
      if (isCode(error, 'ENOENT', 'EISDIR', 'ENOTDIR')) throw new StorageNotFoundError(this.uri, key);
      throw new StorageIoError(this.uri, key, 'get', error);
    }
  }

  async exists(key: string): Promise<boolean> {
    const path = this.#path(key);
    try {
      return (await this.#bounded(() => stat(path))).isFile();
    } catch (error) {
      if (error instanceof StorageAttemptTimeoutError) throw this.#timedOut('exists', key, error);
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return false;
      throw new StorageIoError(this.uri, key, 'exists', error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const folder = normalizeListPrefix(prefix);
    const keys: string[] = [];
    try {
      await this.#bounded(() => walk(folder === '' ? this.directory : join(this.directory, ...folder.split('/')), folder === '' ? '' : `${folder}/`, keys));
    } catch (error) {
      if (error instanceof StorageAttemptTimeoutError) throw this.#timedOut('list', prefix, error);
      throw new StorageIoError(this.uri, prefix, 'list', error);
    }
    return keys.sort(compareKeys);
  }

  async listFolders(prefix: string): Promise<string[]> {
    const folder = normalizeListPrefix(prefix);
    const dir = folder === '' ? this.directory : join(this.directory, ...folder.split('/'));
    try {
      const entries = await this.#bounded(() => readdir(dir, { withFileTypes: true }));
      return entries.filter((e) => e.isDirectory() && storageKeyProblem(e.name) === undefined).map((e) => e.name).sort(compareKeys);
    } catch (error) {
      if (error instanceof StorageAttemptTimeoutError) throw this.#timedOut('list', prefix, error);
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return [];
      throw new StorageIoError(this.uri, prefix, 'list', error);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    // Every key is checked before the first unlink, so a bad key deletes nothing.
    const paths = keys.map((key) => this.#path(key));
    await mapWithConcurrency(paths, DELETE_CONCURRENCY, async (path, index) => {
      try {
        await this.#bounded(() => rm(path, { force: true }));
      } catch (error) {
        if (error instanceof StorageAttemptTimeoutError) throw this.#timedOut('delete', keys[index], error);
        throw new StorageIoError(this.uri, keys[index], 'delete', error);
      }
      await this.#pruneEmptyParents(path);
    });
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  /** Temp files (`<key>.tmp-<random>`) under `prefix` older than `modifiedBefore`: what a writer killed mid-write left. */
  async removeTemporaries(prefix: string, modifiedBefore: number): Promise<number> {
    const folder = normalizeListPrefix(prefix);
    const start = folder === '' ? this.directory : join(this.directory, ...folder.split('/'));
    try {
      return await this.#bounded(() => removeStaleTemps(start, modifiedBefore));
    } catch (error) {
      if (error instanceof StorageAttemptTimeoutError) throw this.#timedOut('delete', prefix, error);
      throw new StorageIoError(this.uri, prefix, 'delete', error);
    }
  }

  #bounded<T>(op: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(this.#timeouts.requestMs, op);
  }

  #timedOut(operation: StorageOperation, key: string, cause: StorageAttemptTimeoutError): StorageTimeoutError {
    return new StorageTimeoutError(this.uri, key, operation, cause.ms, 1, cause);
  }

  #path(key: string): string {
    return join(this.directory, ...validateStorageKey(key).split('/'));
  }

  /** Removes folders emptied by a delete (e.g. a disposed `chk-<n>/`), up to but never the root. */
  async #pruneEmptyParents(path: string): Promise<void> {
    for (let dir = dirname(path); dir !== this.directory && dir.startsWith(this.directory); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        // Not empty (or already gone, or not ours to remove): stop, it is only tidying.
        return;
      }
    }
  }
}

function directoryOf(uriOrPath: string): string {
  if (typeof uriOrPath !== 'string' || uriOrPath === '') throw new JobConfigError('checkpointStorage', 'the storage location is empty');
  if (!/^file:/i.test(uriOrPath)) return resolve(uriOrPath);
  // Never echo a user-info part: it may hold a secret.
  const shown = redactUserInfo(uriOrPath);
  if (!/^file:\/\//i.test(uriOrPath)) {
    throw new JobConfigError('checkpointStorage', `'${shown}' is not a file URL of an absolute path; use file:///abs/dir or a plain path`);
  }
  let url: URL;
  try {
    url = new URL(uriOrPath);
  } catch {
    throw new JobConfigError('checkpointStorage', `'${shown}' is not a valid file URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new JobConfigError('checkpointStorage', 'a file URL must not contain a user name or password');
  }
  try {
    return resolve(fileURLToPath(url));
  } catch (error) {
    throw new JobConfigError('checkpointStorage', `'${shown}' is not a local file URL (${(error as Error).message})`);
  }
}

/**
 * Temp file, fsync, rename, fsync of the directory — with synchronous calls on purpose. Each
 * asynchronous fs step waits for a turn of the caller's event loop, and the callers are worker
 * threads that also run operators: behind a slow operator one turn took 100–400 ms, so a
 * ten-step write took seconds (measured in bench/backpressure: unaligned checkpoints went from
 * ≈5 s to ≈0.2 s with this). Blocking once for the write and the fsyncs is far cheaper.
 */
async function writeAtomically(path: string, data: Uint8Array, publish: (temp: string, path: string) => boolean = replace): Promise<boolean> {
  const dir = dirname(path);
  for (let attempt = 0; ; attempt++) {
    const temp = `${path}${TEMP_MARKER}${randomBytes(8).toString('hex')}`;
    let fd: number;
    try {
      mkdirSync(dir, { recursive: true });
      fd = openSync(temp, 'wx');
    } catch (error) {
      // A concurrent delete may prune the freshly made folder before the open: make it again.
      if (isCode(error, 'ENOENT') && attempt < PUT_DIRECTORY_RETRIES) continue;
      throw error;
    }
    try {
      try {
        let written = 0;
        while (written < data.length) written += writeSync(fd, data, written, data.length - written);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const published = publish(temp, path);
      if (!published) {
        rmSync(temp, { force: true });
        return false;
      }
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    // The new entry is durable only once the directory entry is on disk.
    syncDirectorySync(dir);
    return true;
  }
}

/** Replaces whatever `path` held (a plain put). */
function replace(temp: string, path: string): boolean {
  renameSync(temp, path);
  return true;
}

/** Creates `path` only if absent: link is atomic and refuses an existing name; then the temp name goes. */
function linkIfAbsent(temp: string, path: string): boolean {
  try {
    linkSync(temp, path);
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    throw error;
  }
  rmSync(temp, { force: true });
  return true;
}

function syncDirectorySync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some platforms (Windows) and file systems cannot open or fsync a directory; the data itself is synced.
    if (!isCode(error, 'EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP')) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Collects every file under `dir` whose key is valid (this skips temp files of unfinished writes). */
async function walk(dir: string, keyPrefix: string, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isCode(error, 'ENOENT', 'ENOTDIR')) return;
    throw error;
  }
  // One folder at a time: a deep tree must not open hundreds of directory handles at once.
  for (const entry of entries) {
    const key = keyPrefix + entry.name;
    if (storageKeyProblem(key) !== undefined) continue;
    if (entry.isDirectory()) await walk(join(dir, entry.name), `${key}/`, out);
    else if (entry.isFile()) out.push(key);
  }
}

async function removeStaleTemps(dir: string, modifiedBefore: number): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isCode(error, 'ENOENT', 'ENOTDIR')) return 0;
    throw error;
  }
  let removed = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removed += await removeStaleTemps(path, modifiedBefore);
    else if (entry.isFile() && entry.name.includes(TEMP_MARKER)) {
      try {
        if ((await stat(path)).mtimeMs >= modifiedBefore) continue;
        await unlink(path);
        removed++;
      } catch (error) {
        // Renamed into place or removed meanwhile: nothing left to tidy.
        if (!isCode(error, 'ENOENT')) throw error;
      }
    }
  }
  return removed;
}

function isCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
