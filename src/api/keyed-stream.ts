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
import { BroadcastStream, KeyedBroadcastConnectedStream } from './broadcast-stream.ts';
import { KeyedConnectedStreams } from './connected-streams.ts';
import { IntervalJoin } from './interval-join.ts';
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

  /**
   * Connects another stream keyed the same way (both inputs then share each key's state and
   * timers), or a BroadcastStream (broadcast state next to this stream's keyed state).
   *
   * @example
   * orders.keyBy((o) => o.id).connect(payments.keyBy((p) => p.orderId)).process(new Match()).uid('match');
   * txs.keyBy((t) => t.account).connect(ruleStream).process(new Alert()).uid('alerts');
   */
  connect<R>(other: BroadcastStream<R>): KeyedBroadcastConnectedStream<T, R, K>;
  connect<R>(other: KeyedStream<R, K>): KeyedConnectedStreams<T, R, K>;
  connect<R>(other: KeyedStream<R, K> | BroadcastStream<R>): KeyedConnectedStreams<T, R, K> | KeyedBroadcastConnectedStream<T, R, K> {
    if (other instanceof BroadcastStream) return new KeyedBroadcastConnectedStream<T, R, K>(this.context, this.inputs, this.keySelector, other);
    if (!(other instanceof KeyedStream)) {
      throw new JobConfigError('connect', 'a keyed stream connects to another keyed stream (call keyBy on it) or to a BroadcastStream (stream.broadcast(descriptor))');
    }
    return new KeyedConnectedStreams<T, R, K>(this.context, this.inputs, other.inputs, this.keySelector, other.keySelector);
  }

  /**
   * Joins this keyed stream with another on the key and event time; set the interval with `between`.
   *
   * @example
   * clicks.keyBy((c) => c.user).intervalJoin(orders.keyBy((o) => o.user)).between(0, 600_000).process(new Attribute()).uid('attribute');
   */
  intervalJoin<R>(other: KeyedStream<R, K>): IntervalJoin<T, R, K> {
    if (!(other instanceof KeyedStream)) throw new JobConfigError('intervalJoin', 'expected a keyed stream (call keyBy on the other stream)');
    return new IntervalJoin<T, R, K>({ context: this.context, left: this.inputs, right: other.inputs, leftKey: this.keySelector, rightKey: other.keySelector });
  }

  private keyedTransform<O>(type: string, operator: OperatorFactory): DataStream<O> {
    const node = this.context.graph.add({ kind: 'operator', type, inputs: this.inputs, operator, keyed: true });
    return new DataStream<O>(this.context, node, [{ nodeId: node.id, partitioning: 'forward' }]);
  }
}
