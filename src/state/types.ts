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
}
