// A test's input: an in-memory log per source (partitions of records and watermarks), read by a real source.
import { JobConfigError } from '../runtime/index.ts';
import type { StoredValueProblem } from '../checkpoint/restore/stored-values.ts';
import type { Source, SourceReader, SourceReaderContext, SourceSplit } from '../runtime/types.ts';
import { NO_TIMESTAMP } from '../runtime/types.ts';

/** One entry of a partition: a record (with its event time, if any) or a watermark. */
export type InputEntry<T> = { readonly kind: 'record'; readonly value: T; readonly timestamp: number } | { readonly kind: 'watermark'; readonly watermark: number };

/** Where a test input's reader has got to in one partition: `offset` entries read. */
export interface TestInputSplit extends SourceSplit {
  readonly offset: number;
}

/**
 * The log behind one replaced source, like a topic in a broker: what the test pushed stays, a
 * checkpoint stores how far each partition was read, and a driver restored from that checkpoint
 * reads on from there (replaying whatever was pushed after it).
 */
export class InputLog<T = unknown> {
  readonly partitions: InputEntry<T>[][];
  ended = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly uid: string,
    partitions: number,
  ) {
    this.partitions = Array.from({ length: partitions }, () => []);
  }

  /** A copy for a restored driver: the same entries, and pushes to one do not reach the other. */
  fork(): InputLog<T> {
    const copy = new InputLog<T>(this.uid, this.partitions.length);
    this.partitions.forEach((p, i) => copy.partitions[i].push(...p));
    copy.ended = this.ended;
    return copy;
  }

  append(partition: number, entry: InputEntry<T>): void {
    this.partitions[partition].push(entry);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Resolves at the next append or end (or a wake-up of the reader). */
  waitForMore(): { promise: Promise<void>; wake: () => void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => {
      wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
    });
    this.waiters.add(wake);
    return { promise, wake };
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  splitId(partition: number): string {
    return `test-input:${this.uid}:${partition}`;
  }
}

class InputLogReader<T> implements SourceReader<T> {
  private offset: number;
  private waiting: (() => void) | undefined;

  constructor(
    private readonly log: InputLog<T>,
    private readonly partition: number,
    offset: number,
  ) {
    this.offset = offset;
  }

  get finished(): boolean {
    return this.log.ended && this.offset >= this.log.partitions[this.partition].length;
  }

  poll(max: number, emit: (value: T, timestamp: number) => void, emitWatermark?: (watermark: number) => void): number | Promise<number> {
    const entries = this.log.partitions[this.partition];
    let emitted = 0;
    while (emitted < max && this.offset < entries.length) {
      const entry = entries[this.offset++];
      if (entry.kind === 'record') {
        emit(entry.value, entry.timestamp);
        emitted++;
      } else {
        emitWatermark?.(entry.watermark);
      }
    }
    if (emitted > 0 || this.offset < entries.length || this.log.ended) return emitted;
    // Nothing at hand: wait for the test's next push (or a checkpoint trigger's wake-up).
    const { promise, wake } = this.log.waitForMore();
    this.waiting = wake;
    return promise.then(() => {
      this.waiting = undefined;
      return 0;
    });
  }

  wakeUp(): void {
    this.waiting?.();
  }

  currentSplit(): TestInputSplit {
    return { id: this.log.splitId(this.partition), offset: this.offset };
  }

  close(): void {
    this.wakeUp();
  }
}

/** The source that stands in for a job's source in testJob: reads its InputLog, one split per partition. */
export class InputLogSource<T> implements Source<T> {
  readonly kind = 'test-input';

  constructor(readonly log: InputLog<T>) {}

  validate(): void {}

  createSplits(_parallelism: number): TestInputSplit[] {
    return this.log.partitions.map((_, p) => ({ id: this.log.splitId(p), offset: 0 }));
  }

  createReader(split: SourceSplit, _ctx: SourceReaderContext): SourceReader<T> {
    const partition = this.partitionOf(split.id);
    if (partition === undefined) throw new JobConfigError(`test input '${this.log.uid}'`, `has no split '${split.id}'`);
    return new InputLogReader(this.log, partition, split.offset as number);
  }

  checkRestoredSplit(split: unknown): StoredValueProblem | undefined {
    const s = split as Partial<TestInputSplit> | null;
    if (typeof s !== 'object' || s === null) return { field: '', expected: 'a test input split { id, offset }', value: split };
    const partition = typeof s.id === 'string' ? this.partitionOf(s.id) : undefined;
    if (partition === undefined) return { field: '.id', expected: `a partition of test input '${this.log.uid}' (it has ${this.log.partitions.length})`, value: s.id };
    const length = this.log.partitions[partition].length;
    if (typeof s.offset !== 'number' || !Number.isSafeInteger(s.offset) || s.offset < 0 || s.offset > length) {
      return { field: '.offset', expected: `an offset from 0 to ${length} (entries in partition ${partition})`, value: s.offset };
    }
    return undefined;
  }

  private partitionOf(id: string): number | undefined {
    const prefix = `test-input:${this.log.uid}:`;
    if (!id.startsWith(prefix)) return undefined;
    const p = Number(id.slice(prefix.length));
    return Number.isInteger(p) && p >= 0 && p < this.log.partitions.length ? p : undefined;
  }
}

/** A record's event time as the input carries it (none: NO_TIMESTAMP, the same as a source without event time). */
export function entryTimestamp(timestamp: number | undefined): number {
  return timestamp === undefined ? NO_TIMESTAMP : timestamp;
}
