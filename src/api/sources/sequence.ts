// Sources.sequence: the integers from..to split into contiguous ranges, optionally rate-limited.
import { JobConfigError, rejectUnknownKeys } from '../../runtime/index.ts';
import { NO_TIMESTAMP } from '../../runtime/types.ts';
import type { Source, SourceReader, SourceReaderContext, SourceSplit } from '../../runtime/types.ts';
import { numericOffset } from './offsets.ts';

export interface SequenceOptions {
  /** First number emitted. */
  readonly from: number;
  /** Last number emitted (inclusive). */
  readonly to: number;
  /** Records per second over all subtasks together; unlimited when absent. */
  readonly ratePerSec?: number;
}

/** A contiguous range of the sequence: `offset` is the next number to emit, `end` the last one. */
export interface SequenceSplit extends SourceSplit {
  readonly offset: number;
  readonly end: number;
  /** This split's share of the source's rate. */
  readonly ratePerSec?: number;
}

function asSequenceSplit(split: SourceSplit): SequenceSplit {
  const { offset, end } = split;
  if (typeof offset !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(end)) {
    throw new TypeError(`Sources.sequence: split '${split.id}' is not a sequence split`);
  }
  return split as SequenceSplit;
}

class SequenceReader implements SourceReader<number> {
  finished: boolean;
  private next: number;
  private readonly end: number;
  private readonly id: string;

  constructor(split: SequenceSplit) {
    this.id = split.id;
    this.next = split.offset;
    this.end = split.end;
    this.finished = this.next > this.end;
  }

  poll(max: number, emit: (value: number, timestamp: number) => void): number {
    const first = this.next;
    let n = this.end - first + 1;
    if (n > max) n = max;
    if (n <= 0) {
      this.finished = this.next > this.end;
      return 0;
    }
    // Throughput hot path: locals only, nothing allocated per record. If emit throws the job
    // fails and restarts from a checkpoint, so the offset need not track a partial batch.
    const stop = first + n;
    for (let v = first; v < stop; v++) emit(v, NO_TIMESTAMP);
    this.next = stop;
    if (stop > this.end) this.finished = true;
    return n;
  }

  currentSplit(): SequenceSplit {
    return { id: this.id, offset: this.next, end: this.end };
  }

  close(): void {}
}

/**
 * Paces on the real clock (performance.now), not processing time: a rate is a load a benchmark or
 * demo puts on the runtime per real second; under a test's manual clock it would never emit.
 */
class RateLimitedSequenceReader implements SourceReader<number> {
  finished: boolean;
  private next: number;
  private readonly end: number;
  private readonly id: string;
  private readonly ratePerSec: number;
  private readonly msPerRecord: number;
  /** performance.now() at the first poll; -1 until then, so time spent waiting to start is not owed. */
  private startedAt = -1;
  /** Records emitted by this reader (not the split): the rate restarts with every reader. */
  private emitted = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wake: ((emitted: number) => void) | undefined;

  constructor(split: SequenceSplit, ratePerSec: number) {
    this.id = split.id;
    this.next = split.offset;
    this.end = split.end;
    this.ratePerSec = ratePerSec;
    this.msPerRecord = 1000 / ratePerSec;
    this.finished = this.next > this.end;
  }

  poll(max: number, emit: (value: number, timestamp: number) => void): number | Promise<number> {
    if (this.next > this.end) {
      this.finished = true;
      return 0;
    }
    const now = performance.now();
    if (this.startedAt < 0) this.startedAt = now;
    // Record k of this reader is due at startedAt + k / rate, so the first is due at once.
    let n = Math.floor(((now - this.startedAt) * this.ratePerSec) / 1000) + 1 - this.emitted;
    const left = this.end - this.next + 1;
    if (n > left) n = left;
    if (n > max) n = max;
    if (n <= 0) {
      if (max <= 0) return 0;
      const wait = Math.max(1, Math.ceil(this.startedAt + this.emitted * this.msPerRecord - now));
      return new Promise<number>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.wake = undefined;
          resolve(0);
        }, wait);
      });
    }
    const first = this.next;
    const stop = first + n;
    for (let v = first; v < stop; v++) emit(v, NO_TIMESTAMP);
    this.next = stop;
    this.emitted += n;
    if (stop > this.end) this.finished = true;
    return n;
  }

  currentSplit(): SequenceSplit {
    return { id: this.id, offset: this.next, end: this.end, ratePerSec: this.ratePerSec };
  }

  close(): void {
    // A slow rate can leave a long timer pending; clearing it lets a canceled job exit now.
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.(0);
  }
}

class SequenceSource implements Source<number> {
  readonly kind = 'sequence';
  private readonly options: SequenceOptions;

  constructor(options: SequenceOptions) {
    this.options = options;
  }

  validate(): void {
    const options: Partial<SequenceOptions> | undefined = this.options;
    if (typeof options !== 'object' || options === null) {
      throw new JobConfigError('Sources.sequence options', 'expected an object { from, to, ratePerSec? }');
    }
    rejectUnknownKeys('Sources.sequence ', options, ['from', 'to', 'ratePerSec']);
    const { from, to, ratePerSec } = options;
    if (typeof from !== 'number' || !Number.isSafeInteger(from)) {
      throw new JobConfigError('Sources.sequence from', `must be a safe integer, got ${String(from)}`);
    }
    if (typeof to !== 'number' || !Number.isSafeInteger(to)) {
      throw new JobConfigError('Sources.sequence to', `must be a safe integer, got ${String(to)}`);
    }
    if (from > to) {
      throw new JobConfigError('Sources.sequence to', `must be >= from (${from}), got ${to}`);
    }
    if (ratePerSec !== undefined && (typeof ratePerSec !== 'number' || !Number.isFinite(ratePerSec) || ratePerSec <= 0)) {
      throw new JobConfigError('Sources.sequence ratePerSec', `must be a finite number > 0, got ${String(ratePerSec)}`);
    }
  }

  createSplits(parallelism: number): SequenceSplit[] {
    if (!Number.isSafeInteger(parallelism) || parallelism < 1) {
      throw new RangeError(`Sources.sequence: parallelism must be a positive integer, got ${parallelism}`);
    }
    const { from, to, ratePerSec } = this.options;
    // BigInt because to - from + 1 can exceed 2^53 even when both ends are safe integers.
    const count = BigInt(to) - BigInt(from) + 1n;
    const n = count < BigInt(parallelism) ? Number(count) : parallelism;
    const size = count / BigInt(n);
    const rest = count % BigInt(n);
    const share = ratePerSec === undefined ? undefined : ratePerSec / n;
    const splits: SequenceSplit[] = [];
    let start = BigInt(from);
    for (let i = 0; i < n; i++) {
      const len = size + (BigInt(i) < rest ? 1n : 0n);
      const split: SequenceSplit = { id: `sequence-${i}-of-${n}`, offset: Number(start), end: Number(start + len - 1n) };
      splits.push(share === undefined ? split : { ...split, ratePerSec: share });
      start += len;
    }
    return splits;
  }

  /** Offsets are the next number to emit. */
  compareOffsets(a: unknown, b: unknown): number {
    return numericOffset(a, 'Sources.sequence') - numericOffset(b, 'Sources.sequence');
  }

  createReader(split: SourceSplit, _ctx: SourceReaderContext): SourceReader<number> {
    const s = asSequenceSplit(split);
    return s.ratePerSec === undefined ? new SequenceReader(s) : new RateLimitedSequenceReader(s, s.ratePerSec);
  }
}

/**
 * The integers `from` to `to` (both inclusive), read in parallel as contiguous ranges.
 * With `ratePerSec`, emission is spread over time at that total rate.
 *
 * @example
 * const numbers = Sources.sequence({ from: 1, to: 1_000_000 });
 * const slow = Sources.sequence({ from: 0, to: 99, ratePerSec: 10 });
 */
export function sequence(options: SequenceOptions): Source<number> {
  return new SequenceSource(options);
}
