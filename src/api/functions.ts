// User function types of the DataStream API.
import type { KeyValue } from '../state/index.ts';
import type {
  Collector,
  KeyedProcessContext,
  KeyedRuntimeContext,
  OnTimerContext,
} from '../runtime/operators/types.ts';

export type {
  AggregateFunction,
  Collector,
  Counter,
  MetricGroup,
  OperatorStateStore,
  ProcessContext,
  RichRuntimeContext,
  KeyedProcessContext,
  KeyedRuntimeContext,
  OnTimerContext,
  RuntimeContext,
  TimerService,
  TimeWindow,
} from '../runtime/operators/types.ts';

/**
 * Per-key processing with state and timers. State handles come from the context in `open`.
 *
 * @example
 * class CountPerKey extends KeyedProcessFunction<number, number, [number, number]> {
 *   private count!: ValueState<number>;
 *   open(ctx: KeyedRuntimeContext) { this.count = ctx.valueState('count'); }
 *   processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<[number, number]>) {
 *     const c = (this.count.value() ?? 0) + 1;
 *     this.count.update(c);
 *     out.collect([ctx.key, c]);
 *   }
 * }
 */
export abstract class KeyedProcessFunction<K extends KeyValue, I, O> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  abstract processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}
