// Loads the bytes behind a reference data URI into one new SharedArrayBuffer.
import { JobConfigError } from '../../errors/index.ts';
import { readFileIntoSharedBuffer } from './read-file.ts';
import { readS3ObjectIntoSharedBuffer } from './read-s3.ts';
import type { LoadReferenceDataOptions } from './types.ts';
import { parseReferenceDataUri } from './uri.ts';

/** Bytes read per step (and between progress reports) unless told otherwise. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Loads `file:///abs/path`, a plain path or `s3://bucket/key` into a new `SharedArrayBuffer` of
 * exactly the data's size, reading in `chunkBytes` steps straight into it (never a whole-data
 * Buffer besides). Progress is reported at most once per chunk, and always ends with a report whose
 * `loadedBytes === totalBytes`; an exception thrown by `onProgress` is ignored. Every call loads
 * anew: share one load between callers with {@link ReferenceDataCache}.
 *
 * @throws ReferenceDataError naming the URI: missing file or object, unsupported scheme, malformed
 *   URI, size changed while loading, other I/O failure. JobConfigError for a bad `chunkBytes`.
 * @example
 * ```ts
 * const buffer = await loadIntoSharedBuffer('s3://ref/rates.bin', {
 *   s3: { region: 'eu-west-1' },
 *   onProgress: (p) => console.log(`${p.loadedBytes}/${p.totalBytes}`),
 * });
 * const rates = new Float64Array(buffer);
 * ```
 */
export async function loadIntoSharedBuffer(uri: string, options: LoadReferenceDataOptions = {}): Promise<SharedArrayBuffer> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new JobConfigError('chunkBytes', `must be a positive integer, got ${chunkBytes}`);
  const location = parseReferenceDataUri(uri);
  if (location.scheme === 'file') return readFileIntoSharedBuffer(location.uri, location.path, chunkBytes, options.onProgress);
  return readS3ObjectIntoSharedBuffer(location, options.s3 ?? {}, chunkBytes, options.onProgress);
}
