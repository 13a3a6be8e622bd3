// DataStream: a typed stream of records and the transformations users chain on it.
import { JobConfigError } from '../runtime/errors.ts';
import { type AsyncMapFunction, type AsyncMapOptions, asyncMapSettings, asyncWaitOperator } from '../runtime/operators/async-wait.ts';
import { filterOperator } from '../runtime/operators/filter.ts';
import { flatMapOperator } from '../runtime/operators/flat-map.ts';
import { mapOperator } from '../runtime/operators/map.ts';
import { OutputTag } from '../runtime/operators/output-tag.ts';
import { sinkOperator } from '../runtime/operators/sink.ts';
import { watermarkAssignerOperator } from '../runtime/operators/watermark-assigner.ts';
import type { GraphInput, GraphNode, Sink } from '../runtime/types.ts';
import type { KeyValue } from '../state/types.ts';
import type { Collector } from './functions.ts';
import type { StreamContext } from './stream-context.ts';
import { KeyedStream } from './keyed-stream.ts';
import type { WatermarkStrategy } from './watermark-strategy.ts';

/** Settings shared by everything that is one operator: uid, name, parallelism. */
export abstract class OperatorHandle {
  constructor(
    protected readonly context: StreamContext,
    /** The operator node settings apply to; undefined for virtual streams (union). */
    protected readonly node: GraphNode | undefined,
  ) {}

  /** Stable id of the operator: state and checkpoints are keyed by it. */
  uid(uid: string): this {
    const node = this.requireNode('uid');
    if (typeof uid !== 'string' || uid.length === 0) {
      throw new JobConfigError(`uid of operator '${node.name}'`, 'must be a non-empty string');
    }
    node.uid = uid;
    node.uidExplicit = true;
    return this;
  }

  /** Display name (defaults to the operator type). */
  name(name: string): this {
    this.requireNode('name').name = name;
    return this;
  }

  setParallelism(parallelism: number): this {
    const node = this.requireNode('setParallelism');
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new JobConfigError(`parallelism of operator '${node.uid}'`, `must be an integer >= 1, got ${parallelism}`);
    }
    node.parallelism = parallelism;
    node.parallelismExplicit = true;
    return this;
  }

  private requireNode(setting: string): GraphNode {
    if (!this.node) throw new JobConfigError(setting, 'a union, a partitioning or a side output is not an operator; set it on the operator before it or the next one');
    return this.node;
  }
}

/**
 * A stream of records of type T.
 *
 * @example
 * env.fromElements(1, 2, 3).map((n) => `#${n}`).sinkTo(Sinks.collect()); // DataStream<string>
 */
export class DataStream<T> extends OperatorHandle {
  constructor(
    context: StreamContext,
    node: GraphNode | undefined,
    /** Where records of this stream come from (more than one after a union). */
    readonly inputs: readonly GraphInput[],
  ) {
    super(context, node);
  }

  map<R>(fn: (value: T) => R): DataStream<R> {
    return this.transform<R>('map', mapOperator(requireFunction(fn, 'map')));
  }

  filter(predicate: (value: T) => boolean): DataStream<T> {
    return this.transform<T>('filter', filterOperator(requireFunction(predicate, 'filter')));
  }

  flatMap<R>(fn: (value: T, out: Collector<R>) => void): DataStream<R> {
    return this.transform<R>('flatMap', flatMapOperator(requireFunction(fn, 'flatMap')));
  }

  /**
   * Async I/O (Flink's AsyncDataStream): calls `fn` per record without waiting for one call to
   * finish before the next, up to `capacity` calls in flight per subtask (then the subtask stops
   * taking input). Results keep the input order unless `ordered: false`, carry the input's event
   * time, and never overtake a watermark. Calls in flight are part of checkpoints: after a restore
   * they are made again, so each record's result is committed exactly once. A call not done within
   * `timeoutMs` (processing time) fails the job with AsyncTimeoutError, or yields `onTimeout(value)`.
   *
   * @example
   * const enriched = orders
   *   .asyncMap(async (o, ctx) => ({ ...o, customer: await lookup(o.customerId, ctx.signal) }), { capacity: 50, timeoutMs: 2_000 })
   *   .uid('enrich');
   */
  asyncMap<R>(fn: AsyncMapFunction<T, R>, options?: AsyncMapOptions<T, R>): DataStream<R> {
    return this.transform<R>('asyncMap', asyncWaitOperator(requireFunction(fn, 'asyncMap'), asyncMapSettings(options)));
  }

  /** Partitions by key: records with equal keys go to the same subtask and share state. */
  keyBy<K extends KeyValue>(keySelector: (value: T) => K): KeyedStream<T, K> {
    requireFunction(keySelector, 'keyBy');
    const inputs = this.inputs.map((input) => ({
      nodeId: input.nodeId,
      partitioning: 'hash' as const,
      keySelector: keySelector as (value: unknown) => KeyValue,
    }));
    return new KeyedStream<T, K>(this.context, inputs, keySelector);
  }

  /** Records go round robin to the next operator's subtasks (evens out skew; also what a parallelism change does). */
  rebalance(): DataStream<T> {
    return this.partitionedAs('rebalance');
  }

  /** Every record goes to every subtask of the next operator. */
  broadcast(): DataStream<T> {
    return this.partitionedAs('broadcast');
  }

  /** Records go to a pseudo-random subtask of the next operator (the same spread in every run). */
  shuffle(): DataStream<T> {
    return this.partitionedAs('shuffle');
  }

  /** Every record goes to subtask 0 of the next operator. */
  global(): DataStream<T> {
    return this.partitionedAs('global');
  }

  /**
   * The side output `tag` of this operator (records its function emitted with `ctx.output(tag, v)`).
   *
   * @example
   * const late = new OutputTag<Click>('late');
   * counts.getSideOutput(late).sinkTo(Sinks.collect()).uid('late-out');
   */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    if (!(tag instanceof OutputTag)) throw new JobConfigError('getSideOutput', 'expected an OutputTag');
    const node = this.node;
    if (node?.kind !== 'operator') throw new JobConfigError('getSideOutput', 'side outputs come from an operator (e.g. a process function or a window), not a source or a union');
    return new DataStream<X>(this.context, undefined, [{ nodeId: node.id, partitioning: 'forward', sideOutput: tag.id }]);
  }

  private partitionedAs(partitioning: 'rebalance' | 'broadcast' | 'shuffle' | 'global'): DataStream<T> {
    if (this.inputs.some((i) => i.partitioning === 'hash')) throw new JobConfigError(partitioning, 'a keyed stream is partitioned by key already');
    return new DataStream<T>(this.context, undefined, this.inputs.map((input) => ({ ...input, partitioning })));
  }

  /** Merges streams of the same type. */
  union(...others: DataStream<T>[]): DataStream<T> {
    const inputs = [...this.inputs];
    for (const other of others) {
      if (!(other instanceof DataStream)) throw new JobConfigError('union', 'every argument must be a DataStream');
      inputs.push(...other.inputs);
    }
    return new DataStream<T>(this.context, undefined, inputs);
  }

  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    return this.transform<T>(
      'watermarks',
      watermarkAssignerOperator(strategy, this.context.config.autoWatermarkIntervalMs),
    );
  }

  sinkTo(sink: Sink<T>): DataStreamSink<T> {
    if (!sink || typeof sink.createWriter !== 'function' || typeof sink.validate !== 'function') {
      throw new JobConfigError('sinkTo', 'expected a sink such as Sinks.collect(), Sinks.file({ path }) or Sinks.discard()');
    }
    const node = this.context.graph.add({
      kind: 'sink',
      type: `sink`,
      name: `sink:${sink.kind}`,
      inputs: this.inputs,
      sink: sink as Sink<unknown>,
      operator: sinkOperator(sink),
    });
    return new DataStreamSink<T>(this.context, node);
  }

  protected transform<R>(type: string, operator: import('../runtime/types.ts').OperatorFactory, keyed = false): DataStream<R> {
    const node = this.context.graph.add({ kind: 'operator', type, inputs: this.inputs, operator, keyed });
    return new DataStream<R>(this.context, node, [{ nodeId: node.id, partitioning: 'forward' }]);
  }
}

/** The end of a pipeline; carries the sink's uid, name and parallelism. */
export class DataStreamSink<T> extends OperatorHandle {
  declare readonly __type?: T;
}

export function requireFunction<F>(fn: F, what: string): F {
  if (typeof fn !== 'function') throw new JobConfigError(what, `expected a function, got ${typeof fn}`);
  return fn;
}
