// Checkpoint storage: one small object-store interface over a local directory or S3.
export { mapWithConcurrency } from './concurrency.ts';
export { InvalidStorageKeyError, type StorageOperation, StorageIoError, StorageNotFoundError, StorageTimeoutError } from './errors.ts';
export { FileStorage } from './file-storage.ts';
export { type OpenStorageOptions, openStorage, registerStorageScheme, type StorageOpener } from './open-storage.ts';
export { FALLBACK_REGION, resolveS3ClientConfig } from './s3-client-config.ts';
export { loadS3Sdk, type S3Connection, type S3Sdk } from './s3-sdk.ts';
export { parseS3Uri, type S3Location, S3Storage, StorageShortBodyError } from './s3-storage.ts';
export { DEFAULT_STORAGE_TIMEOUTS, resolveStorageTimeouts, StorageAttemptTimeoutError, type StorageTimeouts, worstCaseMs } from './timeouts.ts';
export { compareKeys, joinKey, normalizeListPrefix, validateStorageKey } from './storage-key.ts';
export type { CheckpointStorage, S3StorageOptions } from './types.ts';
