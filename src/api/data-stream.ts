// DataStream: a typed stream of records and the transformations users chain on it.
import { JobConfigError } from '../runtime/index.ts';
import { type AsyncMapFunction, type AsyncMapOptions, asyncMapSettings, asyncWaitOperator } from '../runtime/operators/async-wait.ts';
import { filterOperator } from '../runtime/operators/filter.ts';
import { flatMapOperator } from '../runtime/operators/flat-map.ts';
import { mapOperator } from '../runtime/operators/map.ts';
import { OutputTag } from '../runtime/operators/output-tag.ts';
import { processOperator } from '../runtime/operators/process.ts';
import { richFilterOperator, richFlatMapOperator, richMapOperator } from '../runtime/operators/rich-functions.ts';
import type { ProcessFunctionLike, RichFilterFunctionLike, RichFlatMapFunctionLike, RichMapFunctionLike } from '../runtime/operators/types.ts';
import { sinkOperator } from '../runtime/operators/sink.ts';
import { watermarkAssignerOperator } from '../runtime/operators/watermark-assigner.ts';
import type { GraphInput, GraphNode, Sink } from '../runtime/types.ts';
import type { KeyValue } from '../state/index.ts';
import type { Collector } from './functions.ts';
import { isRichFunction } from './rich-functions.ts';
import type { StreamContext } from './stream-context.ts';
import { KeyedStream } from './keyed-stream.ts';
import { BroadcastStateDescriptor } from '../runtime/operators/broadcast-state.ts';
import { BroadcastConnectedStream, BroadcastStream } from './broadcast-stream.ts';
import { ConnectedStreams } from './connected-streams.ts';
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

  /** A function, or a rich function (`map` with `open(ctx)`/`close()`, e.g. a {@link RichMapFunction}). */
  map<R>(fn: ((value: T) => R) | RichMapFunctionLike<T, R>): DataStream<R> {
    if (isRichFunction<RichMapFunctionLike<T, R>>(fn, 'map')) return this.transform<R>('map', richMapOperator(fn));
    return this.transform<R>('map', mapOperator(requireFunction(fn, 'map')));
  }

  /** A predicate, or a rich function (`filter` with `open(ctx)`/`close()`). */
  filter(predicate: ((value: T) => boolean) | RichFilterFunctionLike<T>): DataStream<T> {
    if (isRichFunction<RichFilterFunctionLike<T>>(predicate, 'filter')) return this.transform<T>('filter', richFilterOperator(predicate));
    return this.transform<T>('filter', filterOperator(requireFunction(predicate, 'filter')));
  }

  /** A function, or a rich function (`flatMap` with `open(ctx)`/`close()`). */
  flatMap<R>(fn: ((value: T, out: Collector<R>) => void) | RichFlatMapFunctionLike<T, R>): DataStream<R> {
    if (isRichFunction<RichFlatMapFunctionLike<T, R>>(fn, 'flatMap')) return this.transform<R>('flatMap', richFlatMapOperator(fn));
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
      // A keyed side output still reads the side output, not the producer's main output.
      ...(input.sideOutput !== undefined ? { sideOutput: input.sideOutput } : {}),
    }));
    return new KeyedStream<T, K>(this.context, inputs, keySelector);
  }

  /** Records go round robin to the next operator's subtasks (evens out skew; also what a parallelism change does). */
  rebalance(): DataStream<T> {
    return this.partitionedAs('rebalance');
  }

  /**
   * Every record goes to every subtask of the next operator. With broadcast state descriptors: a
   * BroadcastStream to `connect` a stream to, whose operator keeps those broadcast states.
   */
  broadcast(): DataStream<T>;
  broadcast(...descriptors: [BroadcastStateDescriptor<KeyValue, unknown>, ...BroadcastStateDescriptor<KeyValue, unknown>[]]): BroadcastStream<T>;
  broadcast(...descriptors: BroadcastStateDescriptor<KeyValue, unknown>[]): DataStream<T> | BroadcastStream<T> {
    const partitioned = this.partitionedAs('broadcast');
    if (descriptors.length === 0) return partitioned;
    return new BroadcastStream<T>(this.context, partitioned.inputs, checkedDescriptors(descriptors));
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

  /**
   * Connects a second stream (of any type) for a two-input operator; or a BroadcastStream, whose
   * records every subtask gets and writes into broadcast state.
   *
   * @example
   * orders.connect(refunds).process(new Reconcile()).uid('reconcile');
   * events.connect(configStream.broadcast(config)).process(new ApplyConfig()).uid('apply');
   */
  connect<R>(other: BroadcastStream<R>): BroadcastConnectedStream<T, R>;
  connect<R>(other: DataStream<R>): ConnectedStreams<T, R>;
  connect<R>(other: DataStream<R> | BroadcastStream<R>): ConnectedStreams<T, R> | BroadcastConnectedStream<T, R> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream<T, R>(this.context, this.inputs, other);
    if (!(other instanceof DataStream)) {
      throw new JobConfigError('connect', 'expected a DataStream or a BroadcastStream (to connect keyed streams, key both: a.keyBy(k1).connect(b.keyBy(k2)))');
    }
    return new ConnectedStreams<T, R>(this.context, this.inputs, other.inputs);
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
    // The shadow sink is read when the operator is created: `.shadowTo(...)` comes after sinkTo.
    let node: GraphNode | undefined;
    node = this.context.graph.add({
      kind: 'sink',
      type: `sink`,
      name: `sink:${sink.kind}`,
      inputs: this.inputs,
      sink: sink as Sink<unknown>,
      operator: sinkOperator(sink, () => node?.shadowSink as Sink<T> | undefined),
    });
    return new DataStreamSink<T>(this.context, node);
  }

  /**
   * Runs a ProcessFunction on every record of this (non-keyed) stream: side outputs, timestamps,
   * processing time, watermark and operator state, no keyed state or timers.
   *
   * @example orders.process(new Validate()).uid('validate').getSideOutput(rejected)
   */
  process<R>(fn: ProcessFunctionLike<T, R>): DataStream<R> {
    if (!isRichFunction<ProcessFunctionLike<T, R>>(fn, 'processElement')) {
      throw new JobConfigError('process', 'expected a ProcessFunction (an object with processElement)');
    }
    return this.transform<R>('process', processOperator(fn));
  }

  protected transform<R>(type: string, operator: import('../runtime/types.ts').OperatorFactory, keyed = false): DataStream<R> {
    const node = this.context.graph.add({ kind: 'operator', type, inputs: this.inputs, operator, keyed });
    return new DataStream<R>(this.context, node, [{ nodeId: node.id, partitioning: 'forward' }]);
  }
}

/** The end of a pipeline; carries the sink's uid, name and parallelism. */
export class DataStreamSink<T> extends OperatorHandle {
  declare readonly __type?: T;

  /**
   * Where this sink writes while the job runs in shadow mode (a handover's deployment B, beside
   * the running job, before its cut): e.g. files in another directory, so a team can compare them
   * with the live output. Without it, shadow output is only sampled (for the promotion guard).
   * Shadow output is made visible whenever B is sampled and at the cut; it is not exactly-once.
   *
   * @example counts.sinkTo(Sinks.file({ path: './out' })).uid('out').shadowTo(Sinks.file({ path: './out-shadow' }));
   */
  shadowTo(sink: Sink<T>): this {
    if (!sink || typeof sink.createWriter !== 'function' || typeof sink.validate !== 'function') {
      throw new JobConfigError('shadowTo', 'expected a sink such as Sinks.file({ path }) or Sinks.discard()');
    }
    if (!this.node) throw new JobConfigError('shadowTo', 'only a sink has a shadow destination');
    this.node.shadowSink = sink as Sink<unknown>;
    return this;
  }
}

/** Broadcast state descriptors for `broadcast(...)`: instances, with distinct names. */
function checkedDescriptors(descriptors: readonly unknown[]): BroadcastStateDescriptor<KeyValue, unknown>[] {
  const names = new Set<string>();
  for (const d of descriptors) {
    if (!(d instanceof BroadcastStateDescriptor)) throw new JobConfigError('broadcast', 'expected BroadcastStateDescriptor arguments (or none, for a plain broadcast partitioning)');
    if (names.has(d.name)) throw new JobConfigError('broadcast', `broadcast state '${d.name}' is declared twice`);
    names.add(d.name);
  }
  return descriptors as BroadcastStateDescriptor<KeyValue, unknown>[];
}

export function requireFunction<F>(fn: F, what: string): F {
  if (typeof fn !== 'function') throw new JobConfigError(what, `expected a function, got ${typeof fn}`);
  return fn;
}
