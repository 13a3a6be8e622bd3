// Shared types of reference data: what user code receives, what loaders report.
import type { S3StorageOptions } from '../../checkpoint/storage/index.ts';

/** Reference data a pre-state-load hook receives (defined by the runtime, which hands it to workers). */
export type { ReferenceData } from '../../runtime/types.ts';

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
