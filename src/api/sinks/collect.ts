// Sinks.collect: keeps every record in memory and returns them with the job's result.
import type { Sink, SinkContext, SinkWriter } from '../../runtime/types.ts';

class CollectWriter<T> implements SinkWriter<T> {
  private readonly records: T[] = [];

  write(value: T, _timestamp: number): void {
    this.records.push(value);
  }

  finish(): void {}

  abort(): void {}

  result(): T[] {
    return this.records;
  }
}

/**
 * Collects the records each subtask receives into an array, returned in the job's result.
 * Meant for tests and small jobs: everything is held in memory.
 *
 * @example
 * const out = Sinks.collect<number>();
 */
export function collect<T>(): Sink<T> {
  return {
    kind: 'collect',
    validate(): void {},
    createWriter(_ctx: SinkContext): SinkWriter<T> {
      return new CollectWriter<T>();
    },
  };
}
