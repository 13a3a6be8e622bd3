// Contracts between two-input operators (connect, interval join, broadcast state) and the user
// functions they call. The api's abstract classes satisfy these shapes.
import type { KeyValue } from '../../state/index.ts';
import type { BroadcastStateDescriptor } from './broadcast-state.ts';
import type { OutputTag } from './output-tag.ts';
import type {
  Collector,
  KeyedProcessContext,
  KeyedRuntimeContext,
  OnTimerContext,
  RuntimeContext,
} from './types.ts';

/**
 * Context of a non-keyed two-input function for the record being processed (the shape of a
 * non-keyed ProcessFunction's context): time can be read; timers need keyed streams, as in Flink.
 */
export interface CoProcessContext {
  /** Event time of the record; undefined when it has none. */
  readonly timestamp: number | undefined;
  /** Emits `value` to the side output `tag` (with this record's event time). */
  output<X>(tag: OutputTag<X>, value: X): void;
  /** Processing time now (ms; the test's clock under testJob). */
  currentProcessingTime(): number;
  /** The operator's event-time watermark: the minimum of both inputs' (-Infinity before the first). */
  currentWatermark(): number;
}

/** Structural shape of a CoProcessFunction: one method per input, no key, no timers. */
export interface CoProcessFunctionLike<I1, I2, O> {
  open?(ctx: RuntimeContext): void | Promise<void>;
  processElement1(value: I1, ctx: CoProcessContext, out: Collector<O>): void;
  processElement2(value: I2, ctx: CoProcessContext, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/** Structural shape of a KeyedCoProcessFunction: both inputs share the key's state and timers. */
export interface KeyedCoProcessFunctionLike<K extends KeyValue, I1, I2, O> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  processElement1(value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  processElement2(value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/** Context of an interval join's function for one joined pair. */
export interface ProcessJoinContext<K extends KeyValue> {
  readonly key: K;
  readonly leftTimestamp: number;
  readonly rightTimestamp: number;
  /** Event time of the joined record: the later of the two. */
  readonly timestamp: number;
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Structural shape of a ProcessJoinFunction: called once per pair within the interval. */
export interface ProcessJoinFunctionLike<K extends KeyValue, L, R, O> {
  open?(ctx: RuntimeContext): void | Promise<void>;
  processElement(left: L, right: R, ctx: ProcessJoinContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/** Broadcast state as processElement sees it: read only. */
export interface ReadOnlyBroadcastState<K extends KeyValue, V> {
  get(key: K): V | undefined;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  isEmpty(): boolean;
  readonly size: number;
}

/** Broadcast state as processBroadcastElement sees it: every parallel instance applies the same writes. */
export interface BroadcastState<K extends KeyValue, V> extends ReadOnlyBroadcastState<K, V> {
  put(key: K, value: V): void;
  remove(key: K): void;
  clear(): void;
}

/** Reads broadcast state by descriptor, read only. */
export interface ReadOnlyBroadcastAccess {
  getBroadcastState<K extends KeyValue, V>(descriptor: BroadcastStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/** processElement of a (non-keyed) BroadcastProcessFunction. */
export interface ReadOnlyBroadcastContext extends CoProcessContext, ReadOnlyBroadcastAccess {}

/** processBroadcastElement (keyed or not): the broadcast state is writable here, and only here. */
export interface BroadcastContext extends CoProcessContext {
  getBroadcastState<K extends KeyValue, V>(descriptor: BroadcastStateDescriptor<K, V>): BroadcastState<K, V>;
}

/** processElement of a KeyedBroadcastProcessFunction: the key's state and timers, broadcast state read only. */
export interface KeyedReadOnlyBroadcastContext<K extends KeyValue> extends KeyedProcessContext<K>, ReadOnlyBroadcastAccess {}

/** onTimer of a KeyedBroadcastProcessFunction. */
export interface KeyedBroadcastOnTimerContext<K extends KeyValue> extends OnTimerContext<K>, ReadOnlyBroadcastAccess {}

/** Structural shape of a BroadcastProcessFunction. */
export interface BroadcastProcessFunctionLike<I, B, O> {
  open?(ctx: RuntimeContext): void | Promise<void>;
  processElement(value: I, ctx: ReadOnlyBroadcastContext, out: Collector<O>): void;
  processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/** Structural shape of a KeyedBroadcastProcessFunction. */
export interface KeyedBroadcastProcessFunctionLike<K extends KeyValue, I, B, O> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  processElement(value: I, ctx: KeyedReadOnlyBroadcastContext<K>, out: Collector<O>): void;
  processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: KeyedBroadcastOnTimerContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}
