// `baton/internal`: the runtime's own building blocks that baton's tests plug into (storage schemes,
// metadata codec, layout, observers). Not public API: no stability promise, names may change.
// Job modules that run in worker threads must import these from here (or from `baton`), never
// from the files themselves: a worker loads the compiled runtime, and only its entries are shared.
export { METADATA_FILE, parseCheckpointKey } from './checkpoint/layout.ts';
export { decodeMetadata, encodeMetadata } from './checkpoint/metadata/metadata-codec.ts';
export { chunkCheckpointId } from './checkpoint/layout.ts';
export { type CheckpointStorage, FileStorage, registerStorageScheme, S3Storage, StorageIoError } from './checkpoint/storage/index.ts';
export { onRestoredFlushSlice, type RestoredFlushSlice } from './state/lmdb/flush-observers.ts';
export { LocalServerError, PostgresServerMissingError, RedisServerMissingError } from './local-servers/index.ts';
