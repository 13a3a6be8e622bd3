// Observers of the background flush of restored state, per thread: for metrics, and for tests that must act mid-flush.

/** One committed flush transaction of a backend's restored layer. */
export interface RestoredFlushSlice {
  readonly dbName: string;
  /** Entries this slice wrote. */
  readonly entries: number;
  readonly ms: number;
  /** Restored entries of this backend still waiting for LMDB (0: its flush is done). */
  readonly remaining: number;
}

const observers = new Set<(slice: RestoredFlushSlice) => void>();

/**
 * Calls `listener` after every flush slice of every LMDB backend of this thread (a worker thread
 * hosts the backends of its subtasks). Returns a function that removes the listener.
 *
 * @example
 * const off = onRestoredFlushSlice((s) => metrics.observe(s.ms));
 */
export function onRestoredFlushSlice(listener: (slice: RestoredFlushSlice) => void): () => void {
  observers.add(listener);
  return () => observers.delete(listener);
}

/** Tells the observers about a slice (the flush calls it once the slice's transaction committed). */
export function notifyRestoredFlushSlice(slice: RestoredFlushSlice): void {
  for (const listener of observers) listener(slice);
}
