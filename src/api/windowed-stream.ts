// WindowedStream: a keyed stream cut into event-time windows, waiting for an aggregate.
import { tumblingWindowOperator, type WindowResultFunction } from '../runtime/operators/tumbling-window.ts';
import type { AggregateFunction } from '../runtime/operators/types.ts';
import type { OperatorFactory } from '../runtime/types.ts';
import { JobConfigError } from '../runtime/errors.ts';
import type { KeyValue } from '../state/types.ts';
import type { DataStream } from './data-stream.ts';
import type { TumblingEventTimeWindows } from './windows.ts';

export class WindowedStream<T, K extends KeyValue> {
  constructor(
    private readonly add: <O>(type: string, operator: OperatorFactory) => DataStream<O>,
    private readonly assigner: TumblingEventTimeWindows,
    private readonly keySelector: (value: T) => K,
  ) {}

  /**
   * Aggregates each window incrementally; emits when the watermark passes the window's end.
   * With `resultFn` the output can include the key and the window.
   *
   * @example
   * keyed.window(TumblingEventTimeWindows.of(1000))
   *   .aggregate(sumAggregate, (key, w, sum) => ({ key, start: w.start, sum }))
   */
  aggregate<ACC, R>(aggregate: AggregateFunction<T, ACC, R>): DataStream<R>;
  aggregate<ACC, R, O>(aggregate: AggregateFunction<T, ACC, R>, resultFn: WindowResultFunction<K, R, O>): DataStream<O>;
  aggregate<ACC, R, O>(aggregate: AggregateFunction<T, ACC, R>, resultFn?: WindowResultFunction<K, R, O>): DataStream<O | R> {
    if (!aggregate || typeof aggregate.add !== 'function' || typeof aggregate.createAccumulator !== 'function' || typeof aggregate.getResult !== 'function') {
      throw new JobConfigError('aggregate', 'expected an AggregateFunction with createAccumulator, add and getResult');
    }
    if (resultFn !== undefined && typeof resultFn !== 'function') throw new JobConfigError('aggregate resultFn', 'must be a function');
    return this.add<O | R>('window', tumblingWindowOperator(this.assigner, aggregate, resultFn, this.keySelector as (v: T) => KeyValue));
  }
}
