// Checkpoint storage in an S3 bucket (or any S3-compatible server) through @aws-sdk/client-s3.
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { JobConfigError } from '../../errors/index.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { describeCause, redactUserInfo, type StorageOperation, StorageIoError, StorageNotFoundError } from './errors.ts';
import { resolveS3ClientConfig } from './s3-client-config.ts';
import { compareKeys, normalizeListPrefix, storageKeyProblem, validateStorageKey } from './storage-key.ts';
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
  readonly #client: S3Client;
  readonly #concurrency: number;
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
    this.#client = new S3Client(resolveS3ClientConfig(options));
    this.#secrets = [
      options.credentials?.secretAccessKey,
      options.credentials?.sessionToken,
      process.env.AWS_SECRET_ACCESS_KEY,
      process.env.AWS_SESSION_TOKEN,
    ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const objectKey = this.#objectKey(key);
    try {
      // A Buffer/Uint8Array body goes out with a plain Content-Length, never aws-chunked.
      await this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: data, ContentLength: data.byteLength }));
    } catch (error) {
      throw this.#ioError('put', key, error);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const objectKey = this.#objectKey(key);
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      const bytes = out.Body === undefined ? new Uint8Array(0) : await out.Body.transformToByteArray();
      if (out.ContentLength !== undefined && out.ContentLength !== bytes.byteLength) {
        throw this.#ioError('get', key, undefined, `read ${bytes.byteLength} of ${out.ContentLength} bytes`);
      }
      return bytes;
    } catch (error) {
      if (error instanceof StorageIoError) throw error;
      if (isMissingObject(error)) throw new StorageNotFoundError(this.uri, key);
      throw this.#ioError('get', key, error);
    }
  }

  async exists(key: string): Promise<boolean> {
    const objectKey = this.#objectKey(key);
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return true;
    } catch (error) {
      if (!isMissingObject(error)) throw this.#ioError('exists', key, error);
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
    try {
      // The paginator follows NextContinuationToken: S3 returns at most 1000 keys per call.
      for await (const page of paginateListObjectsV2({ client: this.#client }, { Bucket: this.bucket, Prefix: listPrefix })) {
        for (const object of page.Contents ?? []) {
          const key = object.Key?.slice(strip);
          // Folder markers (`x/`) and keys this API could not address are not objects of ours.
          if (key !== undefined && storageKeyProblem(key) === undefined) keys.push(key);
        }
      }
    } catch (error) {
      throw this.#ioError('list', prefix, error);
    }
    return keys.sort(compareKeys);
  }

  async delete(keys: readonly string[]): Promise<void> {
    // Every key is checked before the first request, so a bad key deletes nothing.
    const objectKeys = [...new Set(keys.map((key) => this.#objectKey(key)))];
    const batches: string[][] = [];
    for (let i = 0; i < objectKeys.length; i += DELETE_BATCH) batches.push(objectKeys.slice(i, i + DELETE_BATCH));
    await mapWithConcurrency(batches, this.#concurrency, async (batch) => {
      let errors: { Key?: string; Code?: string; Message?: string }[];
      try {
        const out = await this.#client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      } catch (error) {
        throw this.#ioError('delete', this.#storageKey(batch[0]), error);
      }
      if (errors.length > 0) {
        const first = errors[0];
        const detail = `${errors.length} of ${batch.length} objects not deleted, first: ${first.Code ?? 'error'}: ${first.Message ?? ''}`;
        throw this.#ioError('delete', this.#storageKey(first.Key ?? batch[0]), errors, detail);
      }
    });
  }

  async close(): Promise<void> {
    this.#client.destroy();
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

  async #verifyBucket(operation: StorageOperation, key: string): Promise<void> {
    if (this.#bucketVerified) return;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (httpStatus(error) === 404 || errorName(error) === 'NoSuchBucket' || errorName(error) === 'NotFound') {
        throw this.#ioError(operation, key, error, `bucket '${this.bucket}' does not exist`);
      }
      // Any other answer (say 403 without s3:ListBucket) proves nothing either way: trust the bucket.
    }
    this.#bucketVerified = true;
  }

  #ioError(operation: StorageOperation, key: string, cause: unknown, detail?: string): StorageIoError {
    let text = detail ?? describeCause(cause);
    for (const secret of this.#secrets) text = text.split(secret).join('***');
    return new StorageIoError(this.uri, key, operation, cause, text);
  }
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
