// Streams an S3 object straight into shared memory, chunk by chunk, with no intermediate copy.
import { loadS3Sdk, resolveS3ClientConfig, type S3StorageOptions } from '../../checkpoint/storage/index.ts';
import { describeCause } from '../../checkpoint/storage/errors.ts';
import { ReferenceDataError } from './errors.ts';
import { createProgressReporter } from './progress.ts';
import { allocateSharedBuffer, sizeMismatch } from './shared-buffer.ts';
import type { ReferenceDataProgressListener } from './types.ts';

/** Where the object lives; `uri` is its normalized `s3://bucket/key`. */
export interface S3Object {
  readonly uri: string;
  readonly bucket: string;
  readonly key: string;
}

/**
 * Loads `object` into a new `SharedArrayBuffer` sized by HeadObject's ContentLength, then streams
 * GetObject's body into a view over it. The GET is conditional on the HEAD's ETag, so an object
 * replaced in between fails instead of mixing two versions. The client is built like checkpoint
 * storage's ({@link resolveS3ClientConfig}) and destroyed afterwards.
 *
 * @throws ReferenceDataError for a missing object or bucket, a body longer or shorter than
 *   ContentLength, or any other S3 failure; messages never contain the configured secrets.
 * @example
 * ```ts
 * const buffer = await readS3ObjectIntoSharedBuffer({ uri: 's3://ref/rates.bin', bucket: 'ref', key: 'rates.bin' }, {}, 8 << 20);
 * ```
 */
export async function readS3ObjectIntoSharedBuffer(
  object: S3Object,
  options: S3StorageOptions,
  chunkBytes: number,
  onProgress?: ReferenceDataProgressListener,
): Promise<SharedArrayBuffer> {
  const { uri, bucket, key } = object;
  const secrets = secretsOf(options);
  const io = <T>(operation: Promise<T>): Promise<T> =>
    operation.catch((error: unknown) => {
      throw s3Error(uri, error, secrets);
    });
  const { S3Client, HeadObjectCommand, GetObjectCommand } = await loadS3Sdk();
  const client = new S3Client(resolveS3ClientConfig(options));
  try {
    const head = await io(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    const size = head.ContentLength;
    if (size === undefined) throw new ReferenceDataError(uri, 'io', 'the server announced no size (no Content-Length)');
    const buffer = allocateSharedBuffer(uri, size);
    const view = new Uint8Array(buffer);
    const progress = createProgressReporter(uri, size, chunkBytes, onProgress);
    const out = await io(client.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: head.ETag })));
    const body: unknown = out.Body;
    let loaded = 0;
    if (body !== undefined) {
      if (!isAsyncIterable(body)) throw new ReferenceDataError(uri, 'io', 'the response body is not a Node stream');
      const chunks = body[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await io(chunks.next());
          if (next.done) break;
          const chunk = next.value as Uint8Array;
          if (loaded + chunk.byteLength > size) throw sizeMismatch(uri, size, 'the object has more');
          view.set(chunk, loaded);
          loaded += chunk.byteLength;
          progress.advance(loaded);
        }
      } finally {
        // Stops the download (and frees its socket) when we leave early; a no-op after the end.
        await chunks.return?.().catch(() => undefined);
      }
    }
    if (loaded !== size) throw sizeMismatch(uri, size, `the object ended after ${loaded}`);
    return buffer;
  } finally {
    client.destroy();
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}

function s3Error(uri: string, error: unknown, secrets: readonly string[]): ReferenceDataError {
  const name = error instanceof Error ? error.name : undefined;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (name === 'NoSuchBucket') return new ReferenceDataError(uri, 'not-found', 'no such bucket', { cause: error });
  // HEAD answers a bare 404 for a missing bucket as well as for a missing key.
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return new ReferenceDataError(uri, 'not-found', 'no such object (or no such bucket)', { cause: error });
  }
  if (name === 'PreconditionFailed' || status === 412) {
    return new ReferenceDataError(uri, 'io', 'the object was replaced while loading', { cause: error });
  }
  let text = describeCause(error);
  for (const secret of secrets) text = text.split(secret).join('***');
  return new ReferenceDataError(uri, 'io', text, { cause: error });
}

/** Strings removed from error messages in case a server echoes them. */
function secretsOf(options: S3StorageOptions): string[] {
  return [options.credentials?.secretAccessKey, options.credentials?.sessionToken, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
