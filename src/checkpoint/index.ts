// Checkpoints: job-directory layout, metadata format, status from storage, shared-chunk registry, coordinator.
export { initialCoordinatorState, stepCoordinator } from './coordinator/checkpoint-coordinator.ts';
export type * from './coordinator/types.ts';
export * from './errors.ts';
export * from './layout.ts';
export { crc32 } from './metadata/crc32.ts';
export * from './metadata/metadata-codec.ts';
export * from './ownership/index.ts';
export { isCheckpointMetadata, metadataProblem } from './metadata/metadata-shape.ts';
export * from './registry/chunk-cleaner.ts';
export { SharedChunkRegistry, chunkIdsOf, planRetention } from './registry/shared-chunk-registry.ts';
export * from './registry/sweep.ts';
export * from './status/checkpoint-status.ts';
export * from './status/stop-request.ts';
export * from './status/lease-request.ts';
export { readMetadataSettled, type SettleOptions } from './status/settled-metadata.ts';
export type { CheckpointStorage } from './storage/types.ts';
export type * from './types.ts';
