// The per-worker LMDB environment, the binary-string key encoder, and the registry of databases in use.
import { type Database, type DatabaseOptions, open, type RootDatabase } from 'lmdb';
import type { Bytes } from './overlay.ts';

/** First key of the state table rows (key group 0xFFFF), after every state entry. */
export const TABLE_START = '\xff\xff';

/** Keys are binary strings: written into lmdb's key buffer without an intermediate Buffer. */
const binaryStringKeys = {
  writeKey(key: string | Uint8Array, target: Buffer, start: number): number {
    // lmdb retries in a larger buffer on RangeError; Buffer#write would silently truncate.
    if (start + key.length > target.length) throw new RangeError('key does not fit the key buffer');
    // A restore writes keys straight from chunk bytes, without building strings.
    if (typeof key !== 'string') {
      target.set(key, start);
      return start + key.length;
    }
    return start + target.write(key, start, 'latin1');
  },
  readKey(target: Buffer, start: number, end: number): string {
    return target.toString('latin1', start, end);
  },
};

/**
 * Opens the LMDB environment of one worker: one per worker thread, shared by all its backends.
 * The environment is scratch space: state is rebuilt from checkpoints after a crash, so commits
 * skip fsync (`noSync`).
 *
 * @example
 * const env = openStateEnvironment('/var/lib/baton/worker-3');
 * const backend = new LmdbKeyedStateBackend({ env, dbName: 'keyed/agg/3', keyGroupRange, maxParallelism: 128 });
 */
export function openStateEnvironment(dir: string): RootDatabase {
  return open({ path: dir, maxDbs: 256, noSync: true, noMemInit: true, compression: false, cache: false });
}

/** Opens a named database with binary values and binary-string keys. */
export function openStateDb(env: RootDatabase, dbName: string): Database<Bytes, string> {
  // keyEncoder is an lmdb option its DatabaseOptions type does not list.
  const dbOptions: DatabaseOptions & { name: string } = { name: dbName, encoding: 'binary' };
  Object.assign(dbOptions, { keyEncoder: binaryStringKeys });
  return env.openDB<Bytes, string>(dbOptions);
}

/**
 * Databases in use by live backends, per environment: two backends on one db would corrupt each
 * other. Keyed by the environment object rather than its path, so a job restarted on a freshly
 * opened environment never trips over a backend of the old one that nobody disposed.
 */
export const dbsInUse = new WeakMap<RootDatabase, Set<string>>();
