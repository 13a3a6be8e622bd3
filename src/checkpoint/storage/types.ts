// The one small interface checkpoint storage implements (local directory or S3).
import type { StorageTimeouts } from './timeouts.ts';

/**
 * Object storage rooted at a URI. Keys are relative `/`-separated paths; an implementation
 * rejects keys that could escape the root (`..`, absolute paths, empty segments).
 */
export interface CheckpointStorage {
  /** The root, e.g. `file:///data/checkpoints` or `s3://bucket/prefix`. */
  readonly uri: string;
  /** Writes an object atomically: a reader sees either nothing or all of it. */
  put(key: string, data: Uint8Array): Promise<void>;
  /**
   * Creates an object only if no object has the key: true if this call created it, false if the
   * key existed (nothing is written then). Atomic like `put`, and between concurrent callers
   * exactly one gets true. The commit point of a checkpoint (its `_metadata`) is written with it,
   * so two runs can never both commit the same checkpoint: the ownership fence.
   */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /** Reads an object; throws StorageNotFoundError if absent. */
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** Every key under `prefix` (recursive), sorted; pages through listings internally. */
  list(prefix: string): Promise<string[]>;
  /**
   * Names of the folders directly under `prefix` (`''`: the root), sorted: one cheap request
   * however many objects they hold. Optional: without it, callers list every key.
   */
  listFolders?(prefix: string): Promise<string[]>;
  /** Deletes objects; a missing key is not an error. */
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
  /**
   * Removes temporary files of atomic writes under `prefix` last modified before `modifiedBefore`
   * (epoch ms), left by writers that died; returns how many. Only for storages that have such
   * files (a file system); on S3 a put is one request and leaves none.
   */
  removeTemporaries?(prefix: string, modifiedBefore: number): Promise<number>;
}

/** S3 settings; anything left out comes from the standard AWS environment and credential chain. */
export interface S3StorageOptions {
  readonly endpoint?: string;
  readonly region?: string;
  /** Defaults to true when an endpoint is given (S3-compatible servers), false otherwise. */
  readonly forcePathStyle?: boolean;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Parallel requests for batch operations. Default 16. */
  readonly concurrency?: number;
  /** Deadline, attempts and backoff of every request (defaults: DEFAULT_STORAGE_TIMEOUTS). */
  readonly timeouts?: Partial<StorageTimeouts>;
}
