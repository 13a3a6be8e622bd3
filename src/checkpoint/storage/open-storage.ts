// Picks the checkpoint storage implementation for a URI by its scheme.
import { JobConfigError, rejectUnknownKeys } from '../../errors/index.ts';
import { redactUserInfo } from './errors.ts';
import { FileStorage } from './file-storage.ts';
import { S3Storage } from './s3-storage.ts';
import type { StorageTimeouts } from './timeouts.ts';
import type { CheckpointStorage, S3StorageOptions } from './types.ts';

/** Settings passed through to the implementation `openStorage` picks. */
export interface OpenStorageOptions {
  readonly s3?: S3StorageOptions;
  /** Bounds of every storage call, for any scheme (`s3.timeouts`, if set, wins for S3). */
  readonly timeouts?: Partial<StorageTimeouts>;
}

const TIMEOUT_KEYS = ['requestMs', 'attempts', 'backoffMs'];

/** Opens a storage for a URI of a registered scheme. */
export type StorageOpener = (uri: string, options: OpenStorageOptions) => CheckpointStorage;

const registered = new Map<string, StorageOpener>();

/**
 * Makes `openStorage` open URIs of `scheme` (e.g. `gcs`) with `open`: a storage backend outside
 * baton. Every thread of a job opens storage, so register in the job module (which each worker
 * imports) or in a module it imports. `file` and `s3` cannot be replaced.
 *
 * @example
 * ```ts
 * registerStorageScheme('mem', (uri) => new MyMemoryStorage(uri));
 * await runJob(url, { checkpointStorage: 'mem://jobs' });
 * ```
 */
export function registerStorageScheme(scheme: string, open: StorageOpener): void {
  const name = scheme.toLowerCase();
  if (!/^[a-z][a-z0-9+.-]+$/.test(name) || name === 'file' || name === 's3') {
    throw new JobConfigError('checkpointStorage', `cannot register storage scheme '${scheme}': use letters, digits, '+', '.', '-', and not file or s3`);
  }
  registered.set(name, open);
}

/**
 * Opens storage for `file:///abs/dir`, a plain absolute or relative path, `s3://bucket/prefix`,
 * or a scheme added with {@link registerStorageScheme}.
 *
 * @throws JobConfigError (option `checkpointStorage`) for an unknown scheme or a malformed URI;
 *   UnknownOptionError for a key of `options` (or of `s3`, `timeouts`) it does not know.
 * @example
 * ```ts
 * const storage = openStorage('s3://checkpoints/prod', { s3: { region: 'eu-west-1' } });
 * const keys = await storage.list('orders/chk-117');
 * ```
 */
export function openStorage(uri: string, options: OpenStorageOptions = {}): CheckpointStorage {
  if (typeof uri !== 'string' || uri.trim() === '') throw new JobConfigError('checkpointStorage', 'the storage URI is empty');
  // A misspelled setting (endpiont, requestMS) would leave the default in place without a word.
  rejectUnknownKeys('', options, ['s3', 'timeouts']);
  rejectUnknownKeys('s3.', options.s3, ['endpoint', 'region', 'forcePathStyle', 'credentials', 'concurrency', 'timeouts']);
  rejectUnknownKeys('s3.credentials.', options.s3?.credentials, ['accessKeyId', 'secretAccessKey', 'sessionToken']);
  rejectUnknownKeys('s3.timeouts.', options.s3?.timeouts, TIMEOUT_KEYS);
  rejectUnknownKeys('timeouts.', options.timeouts, TIMEOUT_KEYS);
  const scheme = schemeOf(uri);
  if (scheme === undefined || scheme === 'file') return new FileStorage(uri, { timeouts: options.timeouts });
  if (scheme === 's3') return new S3Storage(uri, { ...options.s3, timeouts: { ...options.timeouts, ...options.s3?.timeouts } });
  const opener = registered.get(scheme);
  if (opener) return opener(uri, options);
  throw new JobConfigError('checkpointStorage', `unsupported scheme '${scheme}:' in '${redactUserInfo(uri)}'; use file:///dir, s3://bucket/prefix or a path`);
}

/** The lower-cased URI scheme, or undefined for a plain path. */
function schemeOf(uri: string): string | undefined {
  // One letter before ':' is a Windows drive (C:\data), not a scheme.
  const match = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(uri);
  return match === null ? undefined : match[1].toLowerCase();
}
