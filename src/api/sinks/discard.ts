// Sinks.discard: drops every record; for benchmarks and jobs run for their side effects.
import type { Sink, SinkContext, SinkWriter } from '../../runtime/types.ts';

// One shared stateless writer: nothing to allocate per subtask, and a single shape keeps the
// write call site monomorphic.
const DISCARD_WRITER: SinkWriter<unknown> = Object.freeze({
  write(_value: unknown, _timestamp: number): void {},
  finish(): void {},
  abort(): void {},
});

/**
 * Drops every record.
 *
 * @example
 * const nowhere = Sinks.discard<number>();
 */
export function discard<T>(): Sink<T> {
  // A new sink object per call, in case the graph tells sinks apart by identity.
  return {
    kind: 'discard',
    validate(): void {},
    createWriter(_ctx: SinkContext): SinkWriter<T> {
      return DISCARD_WRITER;
    },
  };
}
