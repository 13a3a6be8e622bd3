// Shared types of reference data: what user code receives, what loaders report.
import type { S3StorageOptions } from '../../checkpoint/storage/index.ts';

/**
 * Reference data a pre-state-load hook receives: one copy of the bytes in shared memory, the same
 * `SharedArrayBuffer` object in every worker of the job (wrap it in a typed array or a DataView).
 *
 * @example
 * ```ts
 * env.onBeforeStateLoad('rates', async (ctx) => {
 *   const rates: ReferenceData = await ctx.loadReferenceData('s3://ref/rates.bin');
 *   table = new Float64Array(rates.buffer);
 * });
 * ```
 */
export interface ReferenceData {
  /** The normalized URI the data was loaded from, e.g. `file:///data/rates.bin` or `s3://ref/rates.bin`. */
  readonly uri: string;
  readonly buffer: SharedArrayBuffer;
  /** Size in bytes, equal to `buffer.byteLength`. */
  readonly bytes: number;
}

/** One progress report of a load; the last one always has `loadedBytes === totalBytes`. */
export interface ReferenceDataProgress {
  /** The normalized URI being loaded. */
  readonly uri: string;
  readonly loadedBytes: number;
  readonly totalBytes: number;
}

/** Receives {@link ReferenceDataProgress} reports. */
export type ReferenceDataProgressListener = (progress: ReferenceDataProgress) => void;

/** Options of {@link loadIntoSharedBuffer}. */
export interface LoadReferenceDataOptions {
  /** S3 settings for `s3://` URIs; gaps are filled from the AWS environment. */
  readonly s3?: S3StorageOptions;
  readonly onProgress?: ReferenceDataProgressListener;
  /** Bytes read per step and between progress reports. Default 8 MiB. */
  readonly chunkBytes?: number;
}

/** Per-URI figures of a {@link ReferenceDataCache}. */
export interface ReferenceDataStats {
  /** Size of the loaded data; 0 while still loading. */
  readonly bytes: number;
  /** Time the one load took; 0 while still loading. */
  readonly loadMs: number;
  /** Calls of `load` for this URI, the one that started the load included. */
  readonly requests: number;
  readonly loading: boolean;
}

/** Why a load failed, for callers that branch on it (the message says it in words). */
export type ReferenceDataErrorKind = 'not-found' | 'unsupported-scheme' | 'invalid-uri' | 'size-mismatch' | 'io';
