// Sources.elements: a fixed in-memory list, read by a single subtask in order.
import { JobConfigError } from '../../runtime/index.ts';
import { NO_TIMESTAMP } from '../../runtime/types.ts';
import type { Source, SourceReader, SourceReaderContext, SourceSplit } from '../../runtime/types.ts';
import { numericOffset } from './offsets.ts';

/** The only split of an elements source: `offset` is the index of the next element, `end` the count. */
export interface ElementsSplit extends SourceSplit {
  readonly offset: number;
  readonly end: number;
}

const SPLIT_ID = 'elements-0';

class ElementsReader<T> implements SourceReader<T> {
  finished: boolean;
  private next: number;
  private readonly values: readonly T[];

  constructor(values: readonly T[], offset: number) {
    this.values = values;
    this.next = offset;
    this.finished = offset >= values.length;
  }

  poll(max: number, emit: (value: T, timestamp: number) => void): number {
    const values = this.values;
    const first = this.next;
    let stop = first + max;
    if (stop > values.length) stop = values.length;
    if (stop <= first) {
      this.finished = first >= values.length;
      return 0;
    }
    for (let i = first; i < stop; i++) emit(values[i], NO_TIMESTAMP);
    this.next = stop;
    if (stop >= values.length) this.finished = true;
    return stop - first;
  }

  currentSplit(): ElementsSplit {
    return { id: SPLIT_ID, offset: this.next, end: this.values.length };
  }

  close(): void {}
}

class ElementsSource<T> implements Source<T> {
  readonly kind = 'elements';
  // Order is part of the contract, so only one subtask may read.
  readonly maxSourceParallelism = 1;
  private readonly values: readonly T[];

  constructor(values: readonly T[]) {
    this.values = values;
  }

  validate(): void {
    if (!Array.isArray(this.values)) {
      throw new JobConfigError('Sources.elements values', 'must be an array');
    }
  }

  createSplits(_parallelism: number): ElementsSplit[] {
    return [{ id: SPLIT_ID, offset: 0, end: this.values.length }];
  }

  /** Offsets are the index of the next element. */
  compareOffsets(a: unknown, b: unknown): number {
    return numericOffset(a, 'Sources.elements') - numericOffset(b, 'Sources.elements');
  }

  createReader(split: SourceSplit, _ctx: SourceReaderContext): SourceReader<T> {
    const offset = split.offset;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      throw new TypeError(`Sources.elements: split '${split.id}' has no valid offset`);
    }
    return new ElementsReader(this.values, offset);
  }
}

/**
 * The given values, in order, from a single subtask (parallelism 1). Handy for tests and demos.
 *
 * @example
 * const words = Sources.elements(['to', 'be', 'or', 'not', 'to', 'be']);
 */
export function elements<T>(values: readonly T[]): Source<T> {
  return new ElementsSource(values);
}
