import type { ChunkEntries } from './snapshot/delta-chunk.ts';
/** Keys that keyed state, key groups and timers understand: primitives with a stable hash. */
export type KeyValue = string | number | bigint | boolean;

/** An inclusive range of key groups `[start, end]` owned by one subtask. */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number;
}

/** Single value per key. */
export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

/** A map per key. */
export interface MapState<UK, UV> {
  get(userKey: UK): UV | undefined;
  put(userKey: UK, value: UV): void;
  remove(userKey: UK): void;
  contains(userKey: UK): boolean;
  entries(): IterableIterator<[UK, UV]>;
  keys(): IterableIterator<UK>;
  values(): IterableIterator<UV>;
  isEmpty(): boolean;
  clear(): void;
}

/** An append-mostly list per key. */
export interface ListState<T> {
  get(): readonly T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  update(values: readonly T[]): void;
  clear(): void;
}

export type StateKind = 'value' | 'map' | 'list';

/** Adds values into one accumulated value per key (Flink's ReducingState); built on value state. */
export interface ReducingState<T> {
  /** The reduced value, or undefined when nothing was added (or it was cleared, or expired). */
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

/** Aggregates values of type IN into an accumulator per key, read as OUT (Flink's AggregatingState). */
export interface AggregatingState<IN, OUT> {
  /** The aggregate's result, or undefined when nothing was added (or it was cleared, or expired). */
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/**
 * Decides at snapshot time which stored values a full snapshot (a base chunk) keeps: TTL state
 * leaves its expired values out. `stored` is a value state's value, one map entry's value or one
 * list element, as the backend stores it.
 */
export interface StateSnapshotFilter {
  keep(stored: unknown): boolean;
}

/**
 * Keyed state of one operator subtask. The operator sets the current key before calling
 * user code; every state handle reads and writes the entry of that key.
 */
export interface KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  setCurrentKey(key: KeyValue): void;
  getCurrentKey(): KeyValue;
  valueState<T>(name: string): ValueState<T>;
  mapState<UK, UV>(name: string): MapState<UK, UV>;
  listState<T>(name: string): ListState<T>;
  /** Number of keys holding any state, for metrics and tests. */
  keyCount(): number;
  dispose(): void;
  /**
   * Leaves values of state `name` out of full snapshots when `filter` says so (TTL state: expired
   * values). Local state is not changed. Backends without it snapshot everything.
   */
  setSnapshotFilter?(name: string, filter: StateSnapshotFilter): void;
}

/** One immutable chunk of keyed state for a key-group range: a full base or a delta. */
export interface StateChunk {
  readonly kind: 'base' | 'delta';
  readonly range: KeyGroupRange;
  /** Sorted by key bytes; a null value is a tombstone (deltas only). */
  readonly entries: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>;
}

/** A keyed state backend that checkpoints in chunks (LMDB: incremental; heap: always a base). */
export interface ChunkedKeyedStateBackend extends KeyedStateBackend {
  /** No change tracking: every checkpoint must store a full base. */
  readonly alwaysBase?: boolean;
  /** Changes since the previous snapshot, per changed range (none when nothing changed). */
  snapshotDelta(): StateChunk[];
  /** Everything live in the backend's range, as a base. */
  snapshotBase(): StateChunk;
  /** Replaces the state of the backend's range with these chains (each a base then its deltas). */
  restoreChunks(chunks: readonly StateChunk[]): void;
  /**
   * Applies chunks on top of the current state (a handover following a running job's
   * checkpoints); with `clear`, that key-group range is emptied first (its chain got a new base).
   */
  applyChunks(chunks: readonly StateChunk[], clear?: KeyGroupRange): void;
  /**
   * The fast path of both: straight from validated chunk bytes; `clear` is emptied first (null:
   * apply on top). Backends without it get decoded chunks.
   */
  restoreEncoded?(chunks: readonly ChunkEntries[], clear: KeyGroupRange | null): void;
  /**
   * Stage 2 of a handover (the blocking part): deltas made visible in memory now, written to local
   * storage in the background, and left out of the next snapshot's delta — the caller's chain must
   * already reference these chunks.
   */
  applyToOverlay?(chunks: readonly ChunkEntries[]): number;
}

export function isChunkedBackend(backend: KeyedStateBackend): backend is ChunkedKeyedStateBackend {
  const b = backend as Partial<ChunkedKeyedStateBackend>;
  return typeof b.snapshotDelta === 'function' && typeof b.snapshotBase === 'function' && typeof b.restoreChunks === 'function';
}
