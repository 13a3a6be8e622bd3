// A sequence source whose input advances with completed checkpoints, so every run spans many of them at any machine speed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Source, SourceReader, SourceSplit } from 'baton';

export interface PacedSequenceOptions {
  readonly from: number;
  readonly to: number;
  /** Records per segment: segment i (0-based) may be read once `<signals>/completed-<i>` exists. */
  readonly segment: number;
  /** Directory where the test announces completed checkpoints as `completed-<count>`. */
  readonly signals: string;
  /** Also at most this many records per second (unlimited when absent): a steady stream within a segment. */
  readonly ratePerSec?: number;
}

/** While nothing may be read, the reader looks again after this long (it must not hold up barriers). */
const LOCKED_RECHECK_MS = 2;

class PacedReader implements SourceReader<number> {
  finished: boolean;
  private next: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() at the first poll and records emitted since, for the rate limit. */
  private startedAt = -1;
  private emitted = 0;

  constructor(
    private readonly id: string,
    offset: number,
    private readonly options: PacedSequenceOptions,
  ) {
    this.next = offset;
    this.finished = offset > options.to;
  }

  poll(max: number, emit: (value: number, timestamp: number) => void): number | Promise<number> {
    const { from, to, segment, signals } = this.options;
    if (this.next > to) {
      this.finished = true;
      return 0;
    }
    const index = Math.floor((this.next - from) / segment);
    if (index > 0 && !existsSync(join(signals, `completed-${index}`))) return this.later();
    let allowed = max;
    const rate = this.options.ratePerSec;
    if (rate !== undefined) {
      const now = performance.now();
      if (this.startedAt < 0) this.startedAt = now;
      // Record k of this reader is due at startedAt + k / rate.
      allowed = Math.min(max, Math.floor(((now - this.startedAt) * rate) / 1000) + 1 - this.emitted);
      if (allowed <= 0) return this.later();
    }
    const last = Math.min(to, from + (index + 1) * segment - 1, this.next + allowed - 1);
    for (let v = this.next; v <= last; v++) emit(v, Number.NEGATIVE_INFINITY);
    const n = last - this.next + 1;
    this.next = last + 1;
    this.emitted += n;
    if (this.next > to) this.finished = true;
    return n;
  }

  /** Nothing to read yet: look again soon (a long wait would hold up barriers). */
  private later(): Promise<number> {
    return new Promise<number>((resolve) => {
      this.timer = setTimeout(() => resolve(0), LOCKED_RECHECK_MS);
    });
  }

  currentSplit(): SourceSplit {
    return { id: this.id, offset: this.next, end: this.options.to };
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

/**
 * The numbers from..to in one split; segment i is read only after the test announced i completed
 * checkpoints. Input then spans at least (to - from + 1) / segment - 1 checkpoints however slow
 * the machine is, and ends by itself.
 */
export function pacedSequence(options: PacedSequenceOptions): Source<number> {
  return {
    kind: 'paced-sequence',
    maxSourceParallelism: 1,
    validate() {},
    createSplits: () => [{ id: 'paced-0', offset: options.from, end: options.to }],
    createReader(split) {
      const offset = split.offset;
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) throw new TypeError(`paced sequence: split '${split.id}' has no numeric offset`);
      return new PacedReader(split.id, offset, options);
    },
  };
}
