// Contracts between operators and the user functions they call.
import type { ReferenceData } from '../types.ts';
import type { OutputTag } from './output-tag.ts';
import type { KeyValue, ListState, MapState, ValueState } from '../../state/types.ts';

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

/** Runtime context of a keyed operator: state handles scoped to the current key. */
export interface KeyedRuntimeContext extends RuntimeContext {
  valueState<T>(name: string): ValueState<T>;
  mapState<UK, UV>(name: string): MapState<UK, UV>;
  listState<T>(name: string): ListState<T>;
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
