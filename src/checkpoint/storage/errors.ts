// Typed errors of checkpoint storage: each names the storage URI and key at fault, never a credential.
import { BatonError } from '../../errors/index.ts';

/** The storage operation that failed, as named in a {@link StorageIoError}. */
export type StorageOperation = 'put' | 'get' | 'exists' | 'list' | 'delete';

/**
 * A key could escape the storage root or is otherwise malformed; rejected before any I/O.
 *
 * @example
 * ```ts
 * try { await storage.get('../etc/passwd'); }
 * catch (e) { if (e instanceof InvalidStorageKeyError) console.error(e.key, e.reason); }
 * ```
 */
export class InvalidStorageKeyError extends BatonError {
  override name = 'InvalidStorageKeyError';
  /** The rejected key, exactly as given. */
  readonly key: string;
  /** Why it was rejected, e.g. `contains a '..' segment`. */
  readonly reason: string;
  constructor(key: string, reason: string) {
    // JSON.stringify makes NUL, newlines and other control characters visible in the message.
    super(`invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.key = key;
    this.reason = reason;
  }
}

/**
 * The object does not exist (what `get` throws for a missing key).
 *
 * @example
 * ```ts
 * const bytes = await storage.get('chk-3/_metadata').catch((e) => {
 *   if (e instanceof StorageNotFoundError) return undefined;
 *   throw e;
 * });
 * ```
 */
export class StorageNotFoundError extends BatonError {
  override name = 'StorageNotFoundError';
  /** Root of the storage, e.g. `s3://bucket/prefix`. */
  readonly uri: string;
  readonly key: string;
  constructor(uri: string, key: string) {
    super(`no object '${key}' in ${uri}`);
    this.uri = uri;
    this.key = key;
  }
}

/**
 * Any other storage failure (permissions, missing bucket, network, full disk). The original error
 * is the `cause`; the message carries its text but never credentials.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof StorageIoError) console.error(e.operation, e.uri, e.key); }
 * ```
 */
export class StorageIoError extends BatonError {
  override name = 'StorageIoError';
  readonly uri: string;
  /** The key (or list prefix, `''` for the whole root) the operation was about. */
  readonly key: string;
  readonly operation: StorageOperation;
  constructor(uri: string, key: string, operation: StorageOperation, cause: unknown, detail?: string) {
    super(`storage ${operation} of '${key}' in ${uri} failed: ${detail ?? describeCause(cause)}`, { cause });
    this.uri = uri;
    this.key = key;
    this.operation = operation;
  }
}

/** `Name: message` of an underlying error (AWS SDK errors carry the S3 error code as `name`). Internal to storage. */
export function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  const label = typeof code === 'string' && code !== '' ? code : cause.name;
  if (!cause.message) return label;
  // Node fs messages already contain their code ("ENOENT: no such file ..."); plain Errors add nothing.
  if (label === 'Error' || cause.message.includes(label)) return cause.message;
  return `${label}: ${cause.message}`;
}

/** `scheme://user:pass@host/x` → `scheme://***@host/x`, so an error message never repeats a password. Internal to storage. */
export function redactUserInfo(uri: string): string {
  return uri.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/]*@/, '$1***@');
}
