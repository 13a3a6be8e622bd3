// Typed errors of checkpoint storage: each names the storage URI and key at fault, never a credential.
import { BatonError, registerErrors } from '../../errors/index.ts';

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
  static override readonly code: string = 'BATON_ERR_STORAGE_INVALID_KEY';
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
  static override readonly code: string = 'BATON_ERR_STORAGE_NOT_FOUND';
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
  static override readonly code: string = 'BATON_ERR_STORAGE_IO';
  override name = 'StorageIoError';
  readonly uri: string;
  /** The key (or list prefix, `''` for the whole root) the operation was about. */
  readonly key: string;
  readonly operation: StorageOperation;
  /** Tries made before giving up (1 when the failure was not worth retrying). */
  readonly attempts: number;
  constructor(uri: string, key: string, operation: StorageOperation, cause: unknown, detail?: string, attempts = 1) {
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    super(`storage ${operation} of '${key}' in ${uri} failed${tries}: ${detail ?? describeCause(cause)}`, { cause });
    this.uri = uri;
    this.key = key;
    this.operation = operation;
    this.attempts = attempts;
  }
}

/**
 * A storage call got no complete answer within its deadline, in every attempt: the store is
 * unresponsive (stalled, paused, a hung disk). Raised instead of waiting forever.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof StorageTimeoutError) console.error(e.operation, e.key, e.timeoutMs, e.attempts); }
 * ```
 */
export class StorageTimeoutError extends StorageIoError {
  /** Stable identifier of this failure, for programs and log searches. */
  static override readonly code: string = 'BATON_ERR_STORAGE_TIMEOUT';
  override name = 'StorageTimeoutError';
  /** The deadline of each attempt. */
  readonly timeoutMs: number;
  constructor(uri: string, key: string, operation: StorageOperation, timeoutMs: number, attempts: number, cause?: unknown) {
    super(uri, key, operation, cause, `timed out: no complete answer within ${timeoutMs} ms${attempts > 1 ? ' each' : ''}`, attempts);
    this.timeoutMs = timeoutMs;
  }
}

/** `Name: message` of an underlying error (AWS SDK errors carry the S3 error code as `name`). Internal to storage. */
export function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // A library's code (ENOENT, an S3 error code) says more than its name; a BatonError's name says more than its code.
  const code = cause instanceof BatonError ? undefined : (cause as { code?: unknown }).code;
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

registerErrors(InvalidStorageKeyError, StorageNotFoundError, StorageIoError, StorageTimeoutError);
