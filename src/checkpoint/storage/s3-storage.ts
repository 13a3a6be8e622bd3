// Checkpoint storage in an S3 bucket (or any S3-compatible server) through @aws-sdk/client-s3.
import { BatonError, JobConfigError, registerErrors } from '../../errors/index.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { describeCause, redactUserInfo, type StorageOperation, StorageIoError, StorageNotFoundError, StorageTimeoutError } from './errors.ts';
import { resolveS3ClientConfig } from './s3-client-config.ts';
import { loadS3Sdk, type S3Connection } from './s3-sdk.ts';
import { compareKeys, normalizeListPrefix, storageKeyProblem, validateStorageKey } from './storage-key.ts';
import { type GaveUp, resolveStorageTimeouts, retrying, type StorageTimeouts } from './timeouts.ts';
import type { CheckpointStorage, S3StorageOptions } from './types.ts';

/** S3 accepts at most this many keys in one DeleteObjects request. */
const DELETE_BATCH = 1000;
const DEFAULT_CONCURRENCY = 16;

/** Bucket and key prefix of an `s3://bucket/optional/prefix` URI. */
export interface S3Location {
  readonly bucket: string;
  /** Without leading or trailing `/`; `''` for the bucket's root. */
  readonly prefix: string;
}

/**
 * Parses `s3://bucket/optional/prefix` (a trailing `/` is ignored).
 *
 * @throws JobConfigError (option `checkpointStorage`) for a malformed URI; the message never repeats
 *   a user-info part, which could hold a secret.
 * @example
 * ```ts
 * parseS3Uri('s3://my-bucket/jobs/'); // { bucket: 'my-bucket', prefix: 'jobs' }
 * ```
 */
export function parseS3Uri(uri: string): S3Location {
  if (!/^s3:\/\//i.test(uri)) throw new JobConfigError('checkpointStorage', `'${redactUserInfo(uri)}' is not an s3:// URI`);
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket.includes('@') || bucket.includes(':')) {
    throw new JobConfigError('checkpointStorage', 'an s3:// URI must not contain credentials or a port; use the AWS environment or the s3 options');
  }
  // Lenient on case and '_' for older S3-compatible servers, strict on length like S3 itself.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/.test(bucket)) {
    throw new JobConfigError('checkpointStorage', `'${bucket}' in '${uri}' is not a valid bucket name (3-63 letters, digits, '.', '-')`);
  }
  let prefix = slash === -1 ? '' : rest.slice(slash + 1);
  while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  const problem = prefix === '' ? undefined : storageKeyProblem(prefix);
  if (problem !== undefined) throw new JobConfigError('checkpointStorage', `the key prefix of '${uri}' ${problem}`);
  return { bucket, prefix };
}

/**
 * Storage in `s3://bucket/optional/prefix`. `put` is a single PutObject, atomic by S3 semantics;
 * `list` pages through ListObjectsV2; `delete` batches DeleteObjects (1000 keys a request) with at
 * most `concurrency` requests in flight. Settings not in `options` come from the AWS environment
 * (see {@link resolveS3ClientConfig}).
 *
 * Every request is bounded (`timeouts`, see {@link StorageTimeouts}): the SDK's HTTP handler has
 * connection and request timeouts, and each attempt also runs under an AbortSignal deadline that
 * covers reading the body, which the SDK's own retries do not. Transient failures (5xx, throttling,
 * resets, timeouts, short bodies) are retried with backoff, by this class rather than the SDK, so a
 * GET whose body stalls is retried like one whose request did; every operation here is idempotent
 * (a put sends the whole object again, still one atomic PUT). After the last attempt the call fails
 * with a StorageIoError, or a StorageTimeoutError when the store did not answer.
 *
 * @example
 * ```ts
 * const storage = new S3Storage('s3://checkpoints/prod', { endpoint: 'http://127.0.0.1:9000' });
 * await storage.put('orders/chk-1/_metadata', bytes);
 * await storage.close();
 * ```
 */
export class S3Storage implements CheckpointStorage {
  readonly uri: string;
  readonly bucket: string;
  /** Key prefix inside the bucket, `''` for its root. */
  readonly prefix: string;
  #connection: Promise<S3Connection> | undefined;
  readonly #options: S3StorageOptions;
  readonly #concurrency: number;
  readonly #timeouts: StorageTimeouts;
  /** Strings removed from error messages in case a server echoes them. */
  readonly #secrets: string[];
  #bucketVerified = false;

  constructor(uri: string, options: S3StorageOptions = {}) {
    const { bucket, prefix } = parseS3Uri(uri);
    this.bucket = bucket;
    this.prefix = prefix;
    this.uri = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new JobConfigError('s3.concurrency', `must be a positive integer, got ${concurrency}`);
    }
    this.#concurrency = concurrency;
    this.#timeouts = resolveStorageTimeouts(options.timeouts);
    this.#options = options;
    this.#secrets = [
      options.credentials?.secretAccessKey,
      options.credentials?.sessionToken,
      process.env.AWS_SECRET_ACCESS_KEY,
      process.env.AWS_SESSION_TOKEN,
    ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const objectKey = this.#objectKey(key);
    // A Buffer/Uint8Array body goes out with a plain Content-Length, never aws-chunked.
    await this.#call('put', key, (abortSignal) =>
      this.#with(({ sdk, client }) => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: data, ContentLength: data.byteLength }), { abortSignal })),
    );
  }

  /**
   * A conditional PutObject (`If-None-Match: *`): S3 answers 412 PreconditionFailed when the key
   * exists, and 409 ConditionalRequestConflict while a concurrent conditional write of the same
   * key is in flight (sent again). A 412 after a retry may be this call's own earlier attempt,
   * which reached the store while its answer was lost: the stored object is read back and counts
   * as ours only if it is byte for byte what we sent (a checkpoint's metadata names its run, so
   * another writer's never is). A store that ignores the header (s3rver, older S3-compatible
   * servers) overwrites instead: see the README's section on ownership.
   */
  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const objectKey = this.#objectKey(key);
    let attempts = 0;
    // Loading the SDK is not part of any request's deadline.
    const { sdk, client } = await this.#connect();
    try {
      await retrying(
        this.#timeouts,
        (abortSignal) => {
          attempts++;
          return client.send(
            new sdk.PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: data, ContentLength: data.byteLength, IfNoneMatch: '*' }),
            { abortSignal },
          );
        },
        (error) => isConditionalConflict(error) || isTransientS3Failure(error),
        (failure) => this.#gaveUp('put', key, failure),
      );
      return true;
    } catch (error) {
      if (!(error instanceof StorageIoError && !(error instanceof StorageTimeoutError) && isPreconditionFailed(error.cause))) throw error;
    }
    if (attempts === 1) return false;
    const stored = await this.get(key);
    return Buffer.from(stored).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  async get(key: string): Promise<Uint8Array> {
    const objectKey = this.#objectKey(key);
    try {
      return await this.#call('get', key, async (abortSignal) => {
        const out = await this.#with(({ sdk, client }) => client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: objectKey }), { abortSignal }));
        // A body that stalls after the headers must not keep its socket once the deadline passed.
        abortSignal.addEventListener('abort', () => (out.Body as { destroy?: () => void } | undefined)?.destroy?.(), { once: true });
        let bytes: Uint8Array;
        try {
          bytes = out.Body === undefined ? new Uint8Array(0) : await out.Body.transformToByteArray();
        } catch (error) {
          // The answer began and its body broke off (a dropped connection, a store that lost the
          // object it was still writing): torn, as when it ends short. A deadline is not.
          if (abortSignal.aborted) throw error;
          throw new StorageShortBodyError(undefined, out.ContentLength, { cause: error });
        }
        if (out.ContentLength !== undefined && out.ContentLength !== bytes.byteLength) throw new StorageShortBodyError(bytes.byteLength, out.ContentLength);
        return bytes;
      });
    } catch (error) {
      if (error instanceof StorageIoError && isMissingObject(error.cause)) throw new StorageNotFoundError(this.uri, key);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    const objectKey = this.#objectKey(key);
    try {
      await this.#call('exists', key, (abortSignal) => this.#with(({ sdk, client }) => client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }), { abortSignal })));
      return true;
    } catch (error) {
      if (!(error instanceof StorageIoError && isMissingObject(error.cause))) throw error;
    }
    // HEAD answers a bare 404 for a missing bucket too; a watcher polling a misspelt bucket must fail, not wait.
    await this.#verifyBucket('exists', key);
    return false;
  }

  async list(prefix: string): Promise<string[]> {
    const folder = normalizeListPrefix(prefix);
    const listPrefix = folder === '' ? this.#rootPrefix() : `${this.#objectKeyUnchecked(folder)}/`;
    const strip = this.#rootPrefix().length;
    const keys: string[] = [];
    // Page by page (S3 returns at most 1000 keys per call), each page a bounded, retried request.
    let token: string | undefined;
    do {
      const page = await this.#call('list', prefix, (abortSignal) =>
        this.#with(({ sdk, client }) => client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ContinuationToken: token }), { abortSignal })),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(strip);
        // Folder markers (`x/`) and keys this API could not address are not objects of ours.
        if (key !== undefined && storageKeyProblem(key) === undefined) keys.push(key);
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort(compareKeys);
  }

  /** One delimited ListObjectsV2 (paged): the common prefixes, not the objects under them. */
  async listFolders(prefix: string): Promise<string[]> {
    const folder = normalizeListPrefix(prefix);
    const listPrefix = folder === '' ? this.#rootPrefix() : `${this.#objectKeyUnchecked(folder)}/`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#call('list', prefix, (abortSignal) =>
        this.#with(({ sdk, client }) => client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, Delimiter: '/', ContinuationToken: token }), { abortSignal })),
      );
      for (const common of page.CommonPrefixes ?? []) {
        const name = common.Prefix?.slice(listPrefix.length, -1);
        if (name !== undefined && name !== '' && !name.includes('/') && storageKeyProblem(name) === undefined) names.push(name);
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return names.sort(compareKeys);
  }

  async delete(keys: readonly string[]): Promise<void> {
    // Every key is checked before the first request, so a bad key deletes nothing.
    const objectKeys = [...new Set(keys.map((key) => this.#objectKey(key)))];
    const batches: string[][] = [];
    for (let i = 0; i < objectKeys.length; i += DELETE_BATCH) batches.push(objectKeys.slice(i, i + DELETE_BATCH));
    await mapWithConcurrency(batches, this.#concurrency, async (batch) => {
      const out = await this.#call('delete', this.#storageKey(batch[0]), (abortSignal) =>
        this.#with(({ sdk, client }) => client.send(new sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }), {
          abortSignal,
        })),
      );
      const errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (errors.length > 0) {
        const first = errors[0];
        const detail = `${errors.length} of ${batch.length} objects not deleted, first: ${first.Code ?? 'error'}: ${first.Message ?? ''}`;
        throw this.#ioError('delete', this.#storageKey(first.Key ?? batch[0]), errors, detail);
      }
    });
  }

  /** The client, created (and the SDK loaded) on first use. */
  #connect(): Promise<S3Connection> {
    this.#connection ??= loadS3Sdk().then((sdk) => ({ sdk, client: new sdk.S3Client(resolveS3ClientConfig(this.#options, process.env, this.#timeouts)) }));
    return this.#connection;
  }

  async #with<T>(call: (connection: S3Connection) => Promise<T>): Promise<T> {
    return call(await this.#connect());
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) (await connection).client.destroy();
  }

  #rootPrefix(): string {
    return this.prefix === '' ? '' : `${this.prefix}/`;
  }

  #objectKey(key: string): string {
    return this.#objectKeyUnchecked(validateStorageKey(key));
  }

  #objectKeyUnchecked(key: string): string {
    return this.#rootPrefix() + key;
  }

  #storageKey(objectKey: string): string {
    return objectKey.slice(this.#rootPrefix().length);
  }

  /** One bounded, retried request (see the class comment); failures become StorageIoError / StorageTimeoutError. */
  async #call<T>(operation: StorageOperation, key: string, attempt: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    // Loading the SDK is not part of any request's deadline.
    await this.#connect();
    return retrying(this.#timeouts, attempt, isTransientS3Failure, (failure) => this.#gaveUp(operation, key, failure), { isTornRead: (error) => isTornRead(operation, error) });
  }

  #gaveUp(operation: StorageOperation, key: string, { error, attempts, timedOut }: GaveUp): Error {
    if (timedOut) return new StorageTimeoutError(this.uri, key, operation, this.#timeouts.requestMs, attempts, error);
    return this.#ioError(operation, key, error, undefined, attempts);
  }

  async #verifyBucket(operation: StorageOperation, key: string): Promise<void> {
    if (this.#bucketVerified) return;
    try {
      await this.#call(operation, key, (abortSignal) => this.#with(({ sdk, client }) => client.send(new sdk.HeadBucketCommand({ Bucket: this.bucket }), { abortSignal })));
    } catch (error) {
      const cause = error instanceof StorageIoError && !(error instanceof StorageTimeoutError) ? error.cause : undefined;
      if (error instanceof StorageTimeoutError) throw error;
      if (httpStatus(cause) === 404 || errorName(cause) === 'NoSuchBucket' || errorName(cause) === 'NotFound') {
        throw this.#ioError(operation, key, cause, `bucket '${this.bucket}' does not exist`);
      }
      // Any other answer (say 403 without s3:ListBucket) proves nothing either way: trust the bucket.
    }
    this.#bucketVerified = true;
  }

  #ioError(operation: StorageOperation, key: string, cause: unknown, detail?: string, attempts = 1): StorageIoError {
    let text = detail ?? describeCause(cause);
    for (const secret of this.#secrets) text = text.split(secret).join('***');
    return new StorageIoError(this.uri, key, operation, cause, text, attempts);
  }
}

/**
 * A GET answered with fewer bytes than its Content-Length, or whose body broke off (the
 * connection dropped mid-body, or the object was read while a store whose writes are not atomic
 * was still writing it): a
 * transient failure the S3 storage retries, the first time at once (see TORN_READ_RETRY_MS);
 * callers see it only as the `cause` of a StorageIoError.
 *
 * @example if (e instanceof StorageIoError && e.cause instanceof StorageShortBodyError) console.log('body cut short');
 */
export class StorageShortBodyError extends BatonError {
  static override readonly code: string = 'BATON_ERR_STORAGE_SHORT_BODY';
  override name = 'StorageShortBodyError';
  /** `read`: bytes that arrived (undefined: the body broke off, `cause` says how); `expected`: its Content-Length. */
  constructor(read: number | undefined, expected: number | undefined, options?: ErrorOptions) {
    super(read === undefined ? `the body broke off${expected === undefined ? '' : ` before its ${expected} bytes`}` : `read ${read} of ${expected} bytes`, options);
  }
}

/** Node's codes for a connection that broke or never came up; worth another try. */
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** S3 error names that mean "try again". */
const TRANSIENT_S3_NAMES = new Set(['InternalError', 'ServiceUnavailable', 'SlowDown', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'ThrottlingException']);

/**
 * Whether a failed S3 request may succeed when sent again: a 5xx or 429 answer, a broken or
 * refused connection, a timeout, a short or unparseable body (no status, or a 2xx whose body was
 * cut). A 4xx answer (missing object, denied, bad request) and missing credentials are final.
 */
export function isTransientS3Failure(error: unknown): boolean {
  if (error instanceof StorageShortBodyError) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === 'CredentialsProviderError') return false;
  const status = httpStatus(error);
  if (status !== undefined && status >= 400) return status >= 500 || status === 429;
  if (TRANSIENT_S3_NAMES.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return true;
  // No HTTP answer at all (socket hang up, aborted stream) or a 2xx whose body could not be read.
  return status === undefined || status < 300;
}

/**
 * A read that broke off or met its object while it was being written, on a store whose writes
 * are not atomic: a body shorter than announced, a connection cut mid-answer (the SDK reports a
 * reset), or (s3rver) a 500 for an object whose files it is still writing. Read again at once the
 * first time (see TORN_READ_RETRY_MS), then with backoff. Not a 503 or 429: those ask the client
 * to slow down.
 */
function isTornRead(operation: StorageOperation, error: unknown): boolean {
  if (error instanceof StorageShortBodyError) return true;
  if (operation !== 'get' || !(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return httpStatus(error) === 500 || code === 'ECONNRESET' || code === 'EPIPE';
}

/** 412: the object exists (the answer to a create-if-absent that lost). */
function isPreconditionFailed(error: unknown): boolean {
  return httpStatus(error) === 412 || errorName(error) === 'PreconditionFailed';
}

/** 409 ConditionalRequestConflict: a concurrent conditional write of the key is in flight; try again. */
function isConditionalConflict(error: unknown): boolean {
  return httpStatus(error) === 409 && errorName(error) === 'ConditionalRequestConflict';
}

/** NoSuchKey (GET) or a bare 404 (HEAD); a missing *bucket* is an error, not a missing object. */
function isMissingObject(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(error) === 404;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

registerErrors(StorageShortBodyError);
