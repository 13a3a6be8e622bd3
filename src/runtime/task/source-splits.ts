// The splits one source subtask reads: their readers while open, where each has got to, and the watermark they combine to.
import type { Output, Source, SourceReader, SourceSplit } from '../types.ts';
import { cutReached, type HeldSplit } from './source-cut.ts';

/** One split of a source subtask: where it is, its reader while open, and its own watermark. */
interface SplitProgress {
  split: SourceSplit;
  reader?: SourceReader<unknown>;
  finished?: boolean;
  /** A poll that has to wait (its promise), until it settles. */
  pending?: Promise<void>;
  /** That poll failed: the source fails with it. */
  failure?: { readonly error: unknown };
  watermark: number;
  emitWatermark?: (watermark: number) => void;
}

/**
 * A reader that never waits (a file, a sequence) is read to its end before the next split's
 * reader is opened; when every open reader has to wait (an unbounded log, a test input), the next
 * split is opened too, and the task waits for whichever reader can go on first: an unbounded split
 * never starves the others. Watermarks the readers emit are combined per split (the lowest of the
 * open splits), so one split ahead in event time does not make another's records late.
 *
 * @example
 * ```ts
 * const splits = new SourceSplits(source, mySplits, { subtaskIndex: 0, parallelism: 1, uid: 'src' }, entry);
 * splits.openNext();
 * splits.poll(1024, () => {}); // true: some reader emitted at once
 * ```
 */
export class SourceSplits {
  private readonly all: SplitProgress[];
  private readonly active: SplitProgress[] = [];
  private opened = 0;
  private emittedWatermark = Number.NEGATIVE_INFINITY;
  private readonly emit: (value: unknown, timestamp: number) => void;

  constructor(
    private readonly source: Source<unknown>,
    splits: readonly SourceSplit[],
    private readonly readerContext: { readonly subtaskIndex: number; readonly parallelism: number; readonly uid: string },
    /** Where records and the combined watermark go: the chain's entry. */
    private readonly entry: Output,
  ) {
    this.all = splits.map((split) => ({ split, watermark: Number.NEGATIVE_INFINITY }));
    this.emit = (value, timestamp) => entry.collect(value, timestamp);
  }

  get activeCount(): number {
    return this.active.length;
  }

  get allOpened(): boolean {
    return this.opened >= this.all.length;
  }

  openNext(): void {
    const current = this.all[this.opened++];
    current.watermark = Number.NEGATIVE_INFINITY;
    current.emitWatermark = (watermark: number) => {
      if (watermark <= current.watermark) return;
      current.watermark = watermark;
      this.combineWatermarks();
    };
    current.reader = this.source.createReader(current.split, this.readerContext);
    this.active.push(current);
  }

  /** Closes the readers read to their end; throws what a reader's failed poll threw. */
  closeFinished(): void {
    const active = this.active;
    for (let i = active.length - 1; i >= 0; i--) {
      const current = active[i];
      if (current.failure) throw current.failure.error;
      if (current.pending || !current.reader!.finished) continue;
      current.split = current.reader!.currentSplit();
      current.reader!.close();
      current.reader = undefined;
      current.finished = true;
      active.splice(i, 1);
      // A finished split no longer holds the watermark back.
      this.combineWatermarks();
    }
  }

  /**
   * Polls every open reader not waiting for up to `batchSize` records each; `onRecords` follows
   * each poll that emitted some (later, for a poll that has to wait). True if any reader answered at once.
   */
  poll(batchSize: number, onRecords: () => void): boolean {
    let polledNow = false;
    for (const current of this.active) if (!current.pending && this.pollOne(current, batchSize, onRecords)) polledNow = true;
    return polledNow;
  }

  /**
   * One pass toward a cut (a shadow deployment's promotion): every split short of its position in
   * `limits` is polled for one record (so none is read past it), the next unopened split opened if
   * one is short; a split `limits` does not list is read to its end. `true`: every split stands at
   * the cut; `false`: go on (something answered or opened); a promise: wait for a reader. A split
   * past its position throws a CutPassedError.
   */
  towardCut(limits: Readonly<Record<string, unknown>>, compare: (a: unknown, b: unknown) => number, sourceUid: string, onRecords: () => void): boolean | Promise<unknown> {
    this.closeFinished();
    const short = this.all.filter((c) => !cutReached(compare, sourceUid, this.heldOf(c), limits));
    if (short.length === 0) return true;
    if (short.some((c) => !c.reader && !c.finished) && !this.allOpened) {
      this.openNext();
      return false;
    }
    let polledNow = false;
    for (const current of short) if (!current.pending && current.reader && this.pollOne(current, 1, onRecords)) polledNow = true;
    if (polledNow) return false;
    return Promise.race(short.flatMap((c) => (c.pending ? [c.pending] : [])));
  }

  /** Where every split stands (its reader's position while open) and whether it was read to its end. */
  held(): HeldSplit[] {
    return this.all.map((c) => this.heldOf(c));
  }

  /** Settles once no poll is under way (waiting readers are woken first). */
  async settle(): Promise<void> {
    this.wakeUp();
    await Promise.all(this.active.map((c) => c.pending));
    this.closeFinished();
  }

  private heldOf(c: SplitProgress): HeldSplit {
    const split = c.reader ? c.reader.currentSplit() : c.split;
    return { id: split.id, offset: split.offset, finished: c.finished === true };
  }

  /** Polls one split for up to `max` records: true if it answered at once (a reader that waits keeps its promise in `pending`). */
  private pollOne(current: SplitProgress, max: number, onRecords: () => void): boolean {
    const polled = current.reader!.poll(max, this.emit, current.emitWatermark);
    if (typeof polled === 'number') {
      if (polled > 0) onRecords();
      return true;
    }
    current.pending = polled.then(
      (emitted) => {
        current.pending = undefined;
        if (emitted > 0) onRecords();
      },
      (error: unknown) => {
        // Kept, not thrown here: the task may be busy with another split; it fails the source next pass.
        current.pending = undefined;
        current.failure = { error };
      },
    );
    return false;
  }

  /** Settles when the first waiting reader can go on. */
  firstReady(): Promise<unknown> {
    return Promise.race(this.active.map((c) => c.pending));
  }

  /** A waiting reader (for input that may never come) returns now: a checkpoint or a stop is waiting. */
  wakeUp(): void {
    for (const current of this.all) current.reader?.wakeUp?.();
  }

  /** Closes every open reader, keeping where it got to. */
  closeAll(): void {
    for (const current of this.active) {
      if (!current.reader) continue;
      current.split = current.reader.currentSplit();
      current.reader.close();
      current.reader = undefined;
    }
  }

  /** Where each split not read to its end has got to. */
  unfinished(): SourceSplit[] {
    return this.all.filter((s) => !s.finished).map((s) => (s.reader ? s.reader.currentSplit() : s.split));
  }

  /** The writers flush pending records before a watermark: it never overtakes them in a channel. */
  private combineWatermarks(): void {
    let low = Number.POSITIVE_INFINITY;
    for (const c of this.active) if (c.watermark < low) low = c.watermark;
    if (this.active.length > 0 && low > this.emittedWatermark && low !== Number.POSITIVE_INFINITY) {
      this.emittedWatermark = low;
      this.entry.emitWatermark(low);
    }
  }
}
