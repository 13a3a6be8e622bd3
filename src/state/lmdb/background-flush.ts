// Writes the restored layer into LMDB in short write transactions between turns of the event loop, so records keep flowing.
import type { Database } from 'lmdb';
import { StateFlushError } from './errors.ts';
import { notifyRestoredFlushSlice } from './flush-observers.ts';
import type { Bytes } from './overlay.ts';
import type { RestoredLayer } from './restored-layer.ts';

/** How the flush runs: on its own between event-loop turns, or only when {@link BackgroundFlush.slice} is called (tests). */
export type RestoredFlushMode = 'background' | 'manual';

/** What the flush cost so far, for benches and metrics. */
export interface RestoredFlushStats {
  /** Write transactions (slices) run. */
  readonly slices: number;
  readonly entries: number;
  /** Sum of the slices' durations: time the thread spent writing, never in one piece longer than `maxSliceMs`. */
  readonly totalMs: number;
  /** The longest slice: the longest the flush kept the thread from processing records. */
  readonly maxSliceMs: number;
  /**
   * The most CPU time one slice used (the process's, over the slice): on a busy machine a slice's
   * wall time also counts the time the OS gave the core to others.
   */
  readonly maxSliceCpuMs: number;
}

/** Entries taken for the first slice (a small one: it measures the pace) and at most. */
const MIN_BATCH = 64;
const MAX_BATCH = 65_536;

/**
 * Drives a {@link RestoredLayer} into LMDB: one write transaction per slice, ended once it took
 * `sliceMs`, the next slice scheduled with setImmediate so that queued messages (record batches,
 * barriers) run in between. Each slice is a transaction of its own; entries leave the layer only
 * once it committed, so reads never miss a value. Stopping it loses nothing that a checkpoint
 * needs (LMDB is a cache of the checkpoint).
 */
export class BackgroundFlush {
  private estimate = MIN_BATCH;
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private stopped = false;
  private failure: StateFlushError | undefined;
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private s = { slices: 0, entries: 0, totalMs: 0, maxSliceMs: 0, maxSliceCpuMs: 0 };

  constructor(
    private readonly db: Database<Bytes, string>,
    private readonly dbName: string,
    private readonly layer: RestoredLayer,
    private readonly mode: RestoredFlushMode,
    private readonly sliceMs: number,
    /** Called after each slice (the layer changed: map iterators must not trust their cursor). */
    private readonly afterSlice: () => void,
  ) {}

  stats(): RestoredFlushStats {
    return { ...this.s };
  }

  /** The error that stopped the flush, if any. */
  failed(): StateFlushError | undefined {
    return this.failure;
  }

  /** Entries were added to the layer: keep flushing until it is empty. */
  start(): void {
    this.stopped = false;
    if (this.mode === 'background') this.schedule();
  }

  /** Stops for good (dispose): pending entries stay unwritten. */
  stop(): void {
    this.stopped = true;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.settle();
  }

  /** Writes everything left now, in one go (before a restore writes LMDB directly underneath). */
  drain(): void {
    while (this.layer.size > 0) this.slice(MAX_BATCH);
  }

  /** Resolves once the layer is empty (rejects if the flush failed or stopped first). */
  whenFlushed(): Promise<void> {
    if (this.layer.size === 0) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * One write transaction of the next entries: at most `maxEntries` when given (tests), else as
   * many as fit about `sliceMs` (checked every 8 entries, so a slice stays short however the
   * cost per entry varies). Returns whether entries remain. Throws {@link StateFlushError} if
   * LMDB failed.
   */
  slice(maxEntries?: number): boolean {
    if (this.failure) throw this.failure;
    if (this.layer.size === 0) return false;
    const started = performance.now();
    const cpu = process.cpuUsage();
    const budget = maxEntries === undefined ? this.sliceMs : Number.POSITIVE_INFINITY;
    const batch = this.layer.nextBatch(maxEntries ?? this.estimate);
    const db = this.db;
    let written = 0;
    try {
      db.transactionSync(() => {
        for (const [key, value] of batch.changes) {
          if (value === null) db.removeSync(key);
          else db.putSync(key, value);
          // The clock every 8 entries: a random put into a large tree costs 10–45 µs here (its pages
          // copied on write), a clock read well under 1 µs, and the slice ends within ~0.3 ms of its budget.
          if ((++written & 7) === 0 && performance.now() - started >= budget) break;
        }
      });
    } catch (error) {
      this.failure = new StateFlushError(this.dbName, error);
      this.settle();
      throw this.failure;
    }
    this.layer.flushed(batch, written);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    if (cpuMs > this.s.maxSliceCpuMs) this.s.maxSliceCpuMs = cpuMs;
    // Next batch: what fit the budget, or twice as much if all of it fit (taking far more entries
    // than a slice writes would cost a copy of them every slice).
    if (maxEntries === undefined) this.estimate = written < batch.changes.length ? Math.max(MIN_BATCH, written) : Math.min(MAX_BATCH, this.estimate * 2);
    this.s.slices++;
    this.s.entries += written;
    this.s.totalMs += ms;
    if (ms > this.s.maxSliceMs) this.s.maxSliceMs = ms;
    this.afterSlice();
    notifyRestoredFlushSlice({ dbName: this.dbName, entries: written, ms, remaining: this.layer.size });
    if (this.layer.size === 0) this.settle();
    return this.layer.size > 0;
  }

  private schedule(): void {
    if (this.scheduled !== undefined || this.stopped) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      if (this.stopped) return;
      try {
        if (this.slice()) this.schedule();
      } catch {
        // Recorded in `failure`: the backend's next snapshot throws it (reads are still served from memory).
      }
    });
  }

  private settle(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (this.layer.size === 0) w.resolve();
      else w.reject(this.failure ?? new StateFlushError(this.dbName, 'the restored-state flush was stopped before it finished'));
    }
  }
}
