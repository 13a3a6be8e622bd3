// KeyedStream: a stream partitioned by key, where state and timers are per key.
import { keyedProcessOperator } from '../runtime/operators/keyed-process.ts';
import { type AggregationField, type AggregationKind, aggregationReducer, checkAggregationField } from '../runtime/operators/aggregations.ts';
import { reduceOperator } from '../runtime/operators/reduce.ts';
import type { KeyedProcessFunctionLike } from '../runtime/operators/types.ts';
import type { GraphInput, OperatorFactory } from '../runtime/types.ts';
import { JobConfigError } from '../runtime/index.ts';
import type { KeyValue } from '../state/index.ts';
import { DataStream, requireFunction } from './data-stream.ts';
import type { StreamContext } from './stream-context.ts';
import type { CountWindow, WindowAssigner } from '../runtime/operators/window/types.ts';
import { WindowedStream } from './windowed-stream.ts';
import { BroadcastStream, KeyedBroadcastConnectedStream } from './broadcast-stream.ts';
import { KeyedConnectedStreams } from './connected-streams.ts';
import { IntervalJoin } from './interval-join.ts';
import { isWindowAssigner } from './windows.ts';

/**
 * The fields of T an aggregation accepts: property names whose values are V, or any index of a
 * tuple. Records that are themselves numbers (or strings, for min/max) take no field.
 */
export type AggregationFieldOf<T, V> = T extends readonly unknown[] ? number : T extends object ? { [P in keyof T]-?: T[P] extends V ? P : never }[keyof T] & string : never;

/** Arguments of sum: no field for a stream of numbers, else a numeric field. */
export type SumArgs<T> = T extends number | bigint ? [] : [field: AggregationFieldOf<T, number | bigint>];
/** Arguments of min/max: no field for a stream of numbers or strings, else a comparable field. */
export type CompareArgs<T> = T extends number | bigint | string ? [] : [field: AggregationFieldOf<T, number | bigint | string>];
/** Arguments of minBy/maxBy: `first` keeps the earlier record on a tie (default true). */
export type CompareByArgs<T> = T extends number | bigint | string ? [first?: boolean] : [field: AggregationFieldOf<T, number | bigint | string>, first?: boolean];

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

  /**
   * Rolling sum per key of a numeric field (a property name or tuple index; none for a stream of
   * numbers). Emits after each record the key's first record with the field summed (Flink's sum).
   *
   * @example orders.keyBy((o) => o.customer).sum('amount').uid('totals')
   */
  sum(...args: SumArgs<T>): DataStream<T> {
    return this.aggregation('sum', args[0] as AggregationField);
  }

  /** Rolling minimum per key of a field: the key's first record with the field replaced by the minimum so far. */
  min(...args: CompareArgs<T>): DataStream<T> {
    return this.aggregation('min', args[0] as AggregationField);
  }

  /** Rolling maximum per key of a field: the key's first record with the field replaced by the maximum so far. */
  max(...args: CompareArgs<T>): DataStream<T> {
    return this.aggregation('max', args[0] as AggregationField);
  }

  /**
   * The record with the smallest field so far, per key (on a tie the earlier one unless `first` is false).
   *
   * @example readings.keyBy((r) => r.sensor).minBy('celsius').uid('coldest')
   */
  minBy(...args: CompareByArgs<T>): DataStream<T> {
    return this.aggregationBy('minBy', args as unknown[]);
  }

  /** The record with the largest field so far, per key (on a tie the earlier one unless `first` is false). */
  maxBy(...args: CompareByArgs<T>): DataStream<T> {
    return this.aggregationBy('maxBy', args as unknown[]);
  }

  private aggregationBy(kind: 'minBy' | 'maxBy', args: unknown[]): DataStream<T> {
    const [field, first] = typeof args[0] === 'boolean' || args[0] === undefined ? [undefined, args[0]] : [args[0], args[1]];
    if (first !== undefined && typeof first !== 'boolean') throw new JobConfigError(`${kind} first`, `must be a boolean, got ${typeof first}`);
    return this.aggregation(kind, field as AggregationField, first as boolean | undefined);
  }

  private aggregation(kind: AggregationKind, field: AggregationField, first?: boolean): DataStream<T> {
    checkAggregationField(kind, field);
    return this.keyedTransform<T>(kind, reduceOperator(aggregationReducer<T>(kind, field, first), this.keySelector));
  }

  /**
   * Cuts each key's records into time windows: tumbling, sliding or session windows, in event or
   * processing time.
   *
   * @example stream.keyBy((c) => c.user).window(EventTimeSessionWindows.withGap(30 * 60_000)).aggregate(count)
   */
  window(assigner: WindowAssigner<T>): WindowedStream<T, K> {
    if (!isWindowAssigner(assigner)) {
      throw new JobConfigError('window', 'expected a window assigner such as TumblingEventTimeWindows.of(ms) or EventTimeSessionWindows.withGap(ms)');
    }
    return new WindowedStream<T, K>((type, op) => this.keyedTransform(type, op), { kind: 'time', assigner }, this.keySelector);
  }

  /**
   * Count windows per key: every `size` records (tumbling), or with `slide`, every `slide`
   * records over the last `size` (sliding). A window not full at the end of input never fires.
   *
   * @example stream.keyBy((r) => r.sensor).countWindow(100).reduce((a, b) => (a.value > b.value ? a : b))
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, CountWindow> {
    if (!Number.isInteger(size) || size < 1) throw new JobConfigError('countWindow size', `must be an integer >= 1, got ${size}`);
    if (slide !== undefined && (!Number.isInteger(slide) || slide < 1 || slide > size)) {
      throw new JobConfigError('countWindow slide', `must be an integer from 1 to the size (${size}), got ${slide}`);
    }
    return new WindowedStream<T, K, CountWindow>((type, op) => this.keyedTransform(type, op), { kind: 'count', size, slide }, this.keySelector);
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
