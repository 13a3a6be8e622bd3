// baton: stream processing for Node.js with exactly-once checkpoints and blue/green handover.
export * from './api/index.ts';
export * from './runtime/index.ts';
export type { KeyValue, ListState, MapState, ValueState } from './state/types.ts';
export { CheckpointNotFoundError, CorruptMetadataError, StateRestoreError } from './checkpoint/errors.ts';
export { checkpointStatus, findLatestRestorable, latestCompleted, listCheckpoints, readMetadata } from './checkpoint/status/checkpoint-status.ts';
export { openStorage, StorageIoError, StorageNotFoundError } from './checkpoint/storage/index.ts';
export type { CheckpointStorage, S3StorageOptions } from './checkpoint/storage/index.ts';
export type { CheckpointMetadata, CheckpointStatus } from './checkpoint/types.ts';
export type { CheckpointStats } from './runtime/coordinator/checkpoint-driver.ts';
