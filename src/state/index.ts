// Public face of keyed state: types, key-group math, the heap backend and the timer queue.
export type * from './types.ts';
export { isChunkedBackend } from './types.ts';
export * from './key-groups.ts';
export {
  HeapKeyedStateBackend,
  type HeapKeyedStateBackendOptions,
  type StateSnapshotEntry,
} from './heap/heap-keyed-state-backend.ts';
export { type Timer, TimerQueue } from './timers/timer-queue.ts';
export { onRestoredFlushSlice, type RestoredFlushSlice } from './lmdb/flush-observers.ts';
export {
  type KeyedStateSnapshot,
  LmdbKeyedStateBackend,
  type LmdbKeyedStateBackendOptions,
  openStateEnvironment,
  type RestoredFlushMode,
  type RestoredFlushStats,
  StateFlushError,
} from './lmdb/lmdb-keyed-state-backend.ts';
export {
  CHUNK_MAGIC,
  CHUNK_VERSION,
  compareBytes,
  type DeltaChunk,
  decodeChunk,
  encodeChunk,
  readChunkEntries,
} from './snapshot/delta-chunk.ts';
export { ChunkCorruptError } from './snapshot/errors.ts';
export { type ResolvedTtl, resolveTtl, type StateOptions, type StateTtlConfig, type TtlUpdateType, type TtlVisibility } from './ttl/ttl-config.ts';
export { type Clock, isExpired, TtlListState, TtlMapState, type TtlStored, TtlValueState, ttlSnapshotFilter } from './ttl/ttl-state.ts';
export { StateTtlMismatchError } from './ttl/errors.ts';
export { type StateAggregateFunction, ValueAggregatingState, ValueReducingState } from './derived-states.ts';
// Stored-state decoding, for baton/testing's checkpoint readers.
export { bytesToBinaryString, decodeStateKey, decodeStateTableRow, isStateTableKey } from './lmdb/key-codec.ts';
export { packr as lmdbValuePackr } from './lmdb/overlay.ts';
