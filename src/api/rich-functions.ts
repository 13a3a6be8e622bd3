// Rich functions (Flink's RichFunction): map, filter, flatMap and non-keyed process functions with
// open(ctx)/close() and a runtime context (subtask, metrics, reference data, operator state).
import type {
  Collector,
  ProcessContext,
  RichFilterFunctionLike,
  RichFlatMapFunctionLike,
  RichMapFunctionLike,
  RichRuntimeContext,
  ProcessFunctionLike,
} from '../runtime/operators/types.ts';

/**
 * A map function with a lifecycle. Any object with `map` (and optionally `open`/`close`) works;
 * extending this class just spells it out.
 *
 * @example
 * class Tag extends RichMapFunction<Click, string> {
 *   private seen!: Counter;
 *   open(ctx: RichRuntimeContext) { this.seen = ctx.metrics.counter('seen'); }
 *   map(c: Click) { this.seen.inc(); return `${c.user}@${c.at}`; }
 * }
 * clicks.map(new Tag()).uid('tag');
 */
export abstract class RichMapFunction<I, O> implements RichMapFunctionLike<I, O> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  abstract map(value: I): O;
  close?(): void | Promise<void>;
}

/**
 * A filter function with a lifecycle.
 *
 * @example
 * class Sample extends RichFilterFunction<number> {
 *   private i = 0;
 *   filter() { return this.i++ % 10 === 0; }
 * }
 */
export abstract class RichFilterFunction<T> implements RichFilterFunctionLike<T> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  abstract filter(value: T): boolean;
  close?(): void | Promise<void>;
}

/**
 * A flatMap function with a lifecycle: here one that buffers records in operator state and emits
 * them in groups, so a restore resumes with the buffer (split over the subtasks on a rescale).
 *
 * @example
 * class Batches extends RichFlatMapFunction<number, number[]> {
 *   private buffer!: ListState<number>;
 *   open(ctx: RichRuntimeContext) { this.buffer = ctx.operatorState.listState<number>('buffer'); }
 *   flatMap(n: number, out: Collector<number[]>) {
 *     this.buffer.add(n);
 *     if (this.buffer.get().length === 10) { out.collect([...this.buffer.get()]); this.buffer.clear(); }
 *   }
 * }
 */
export abstract class RichFlatMapFunction<I, O> implements RichFlatMapFunctionLike<I, O> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  abstract flatMap(value: I, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/**
 * Per-record processing on a non-keyed stream: side outputs, the record's timestamp, processing
 * time and the watermark. No keyed state and no timers (key the stream for those).
 *
 * @example
 * class Validate extends ProcessFunction<Order, Order> {
 *   processElement(o: Order, ctx: ProcessContext, out: Collector<Order>) {
 *     if (o.amount > 0) out.collect(o);
 *     else ctx.output(rejected, o);
 *   }
 * }
 */
export abstract class ProcessFunction<I, O> implements ProcessFunctionLike<I, O> {
  open?(ctx: RichRuntimeContext): void | Promise<void>;
  abstract processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/** Whether `fn` is a rich function object (has method `method`) rather than a plain function. */
export function isRichFunction<F>(fn: unknown, method: string): fn is F {
  return typeof fn === 'object' && fn !== null && typeof (fn as Record<string, unknown>)[method] === 'function';
}
