// Reference data: bytes loaded once on the main thread into shared memory that every worker of a job sees.
export { ReferenceDataError } from './errors.ts';
export { DEFAULT_CHUNK_BYTES, loadIntoSharedBuffer } from './load-bytes.ts';
export { ReferenceDataCache, type ReferenceDataCacheOptions } from './reference-data-cache.ts';
export type {
  LoadReferenceDataOptions,
  ReferenceData,
  ReferenceDataErrorKind,
  ReferenceDataProgress,
  ReferenceDataProgressListener,
  ReferenceDataStats,
} from './types.ts';
export { normalizeReferenceDataUri, parseReferenceDataUri, type ReferenceDataLocation } from './uri.ts';
