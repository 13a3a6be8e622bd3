// Contracts between operators and the user functions they call.
import type { ReferenceData } from '../types.ts';
import type { OutputTag } from './output-tag.ts';
import type { AggregatingState, KeyValue, ListState, MapState, ReducingState, ValueState } from '../../state/index.ts';
import type { StateOptions } from '../../state/index.ts';

/** Emits records downstream from inside a user function. */
export interface Collector<T> {
  collect(value: T): void;
}

/** Timers of the current key. Times are milliseconds. */
export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  registerEventTimeTimer(timestamp: number): void;
  registerProcessingTimeTimer(timestamp: number): void;
  deleteEventTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
}

/** What a user function can see of the operator it runs in. */
export interface RuntimeContext {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /**
   * Reference data a pre-state-load hook loaded (the SharedArrayBuffer all workers share).
   *
   * @example this.prices = new Int32Array(ctx.referenceData('s3://ref/prices.bin').buffer);
   */
  referenceData(uri: string): ReferenceData;
}

/**
 * Runtime context of a keyed operator: state handles scoped to the current key. `options.ttl`
 * gives a state a time-to-live on processing time.
 *
 * @example this.clicks = ctx.valueState<number>('clicks', { ttl: { ms: 60 * 60_000, update: 'on-read-and-write' } });
 */
export interface KeyedRuntimeContext extends RuntimeContext {
  valueState<T>(name: string, options?: StateOptions): ValueState<T>;
  mapState<UK, UV>(name: string, options?: StateOptions): MapState<UK, UV>;
  listState<T>(name: string, options?: StateOptions): ListState<T>;
  /** One value per key that `add` folds new values into with `reduce` (stored as value state `name`). */
  reducingState<T>(name: string, reduce: (accumulated: T, value: T) => T, options?: StateOptions): ReducingState<T>;
  /** One accumulator per key that `add` aggregates into (stored as value state `name`); `get` returns its result. */
  aggregatingState<IN, ACC, OUT>(name: string, fn: AggregateFunction<IN, ACC, OUT>, options?: StateOptions): AggregatingState<IN, OUT>;
  /** Counters of this operator, reported in the job result. */
  readonly metrics: MetricGroup;
}

/** A counter of a user function, summed over the operator's subtasks in `JobResult.operators[uid].counters`. */
export interface Counter {
  inc(n?: number): void;
  dec(n?: number): void;
  /** This subtask's count. */
  readonly count: number;
}

/** Metrics a user function registers (counters; not checkpointed: they count from the start of the attempt). */
export interface MetricGroup {
  /** The counter `name` of this operator subtask (the same one on every call). */
  counter(name: string): Counter;
}

/**
 * Operator (non-keyed) state of a function: lists checkpointed per subtask. On a restore at
 * another parallelism, `listState` elements are split evenly over the new subtasks, and every
 * subtask gets all elements of a `unionListState` (Flink's even-split and union redistribution).
 *
 * @example this.buffer = ctx.operatorState.listState<Order>('buffer');
 */
export interface OperatorStateStore {
  listState<T>(name: string): ListState<T>;
  unionListState<T>(name: string): ListState<T>;
}

/** What map, filter, flatMap and non-keyed process functions see in `open`. */
export interface RichRuntimeContext extends RuntimeContext {
  readonly maxParallelism: number;
  readonly metrics: MetricGroup;
  readonly operatorState: OperatorStateStore;
  /** Processing time now (ms; the test's clock under testJob). */
  currentProcessingTime(): number;
}

/** Structural shape of a rich map function: `map` plus optional `open(ctx)` and `close()`. */
export interface RichMapFunctionLike<I, O> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  map(value: I): O;
  close?(): void | Promise<void>;
}

export interface RichFilterFunctionLike<T> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  filter(value: T): boolean;
  close?(): void | Promise<void>;
}

export interface RichFlatMapFunctionLike<I, O> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  flatMap(value: I, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/** Context of a non-keyed process function's `processElement`. */
export interface ProcessContext {
  /** Event time of the record; undefined when it has none. */
  readonly timestamp: number | undefined;
  /** Emits `value` to the side output `tag` (with this record's event time). */
  output<X>(tag: OutputTag<X>, value: X): void;
  currentProcessingTime(): number;
  /** The operator's current event-time watermark (-Infinity before the first). */
  currentWatermark(): number;
}

/** Structural shape of a non-keyed process function. */
export interface ProcessFunctionLike<I, O> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

export interface KeyedProcessContext<K extends KeyValue> {
  readonly key: K;
  /** Event time of the record (or firing timer); undefined when the record has none. */
  readonly timestamp: number | undefined;
  readonly timerService: TimerService;
  /** Emits `value` to the side output `tag` (with this record's event time); read it with `getSideOutput(tag)`. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

export interface OnTimerContext<K extends KeyValue> extends KeyedProcessContext<K> {
  readonly timeDomain: 'event-time' | 'processing-time';
}

/** Structural shape of a keyed process function (the api's abstract class satisfies it). */
export interface KeyedProcessFunctionLike<K extends KeyValue, I, O> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/** Incremental aggregation of a window's records. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  /** Combines two accumulators: needed by windows that merge (sessions). */
  merge?(a: ACC, b: ACC): ACC;
}

/** A time window `[start, end)`. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

export interface WatermarkStrategyLike<T> {
  readonly maxOutOfOrdernessMs: number;
  readonly timestampAssigner: (value: T, previousTimestamp: number | undefined) => number;
}
