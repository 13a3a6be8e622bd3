// KeyedStream: a stream partitioned by key, where state and timers are per key.
import { keyedProcessOperator } from '../runtime/operators/keyed-process.ts';
import { reduceOperator } from '../runtime/operators/reduce.ts';
import type { KeyedProcessFunctionLike } from '../runtime/operators/types.ts';
import type { GraphInput, OperatorFactory } from '../runtime/types.ts';
import { JobConfigError } from '../runtime/errors.ts';
import type { KeyValue } from '../state/types.ts';
import { DataStream, requireFunction } from './data-stream.ts';
import type { StreamContext } from './stream-context.ts';
import { WindowedStream } from './windowed-stream.ts';
import type { TumblingEventTimeWindows } from './windows.ts';

export class KeyedStream<T, K extends KeyValue> {
  constructor(
    private readonly context: StreamContext,
    readonly inputs: readonly GraphInput[],
    readonly keySelector: (value: T) => K,
  ) {}

  /**
   * Runs a KeyedProcessFunction: per-key state and timers.
   *
   * @example
   * stream.keyBy((o) => o.customer).process(new CountPerKey()).uid('count')
   */
  process<O>(fn: KeyedProcessFunctionLike<K, T, O>): DataStream<O> {
    if (!fn || typeof fn.processElement !== 'function') {
      throw new JobConfigError('process', 'expected a KeyedProcessFunction (an object with processElement)');
    }
    return this.keyedTransform<O>('process', keyedProcessOperator(fn, this.keySelector));
  }

  /** Rolling reduce per key: emits the reduced value after each record. */
  reduce(fn: (accumulated: T, value: T) => T): DataStream<T> {
    return this.keyedTransform<T>('reduce', reduceOperator(requireFunction(fn, 'reduce'), this.keySelector));
  }

  window(assigner: TumblingEventTimeWindows): WindowedStream<T, K> {
    if (!assigner || typeof assigner.sizeMs !== 'number') {
      throw new JobConfigError('window', 'expected a window assigner such as TumblingEventTimeWindows.of(ms)');
    }
    return new WindowedStream<T, K>((type, op) => this.keyedTransform(type, op), assigner, this.keySelector);
  }

  private keyedTransform<O>(type: string, operator: OperatorFactory): DataStream<O> {
    const node = this.context.graph.add({ kind: 'operator', type, inputs: this.inputs, operator, keyed: true });
    return new DataStream<O>(this.context, node, [{ nodeId: node.id, partitioning: 'forward' }]);
  }
}
