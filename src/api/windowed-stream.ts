// WindowedStream: a keyed stream cut into windows (time or count), waiting for the function that evaluates them.
import { JobConfigError } from '../runtime/index.ts';
import { OutputTag } from '../runtime/operators/output-tag.ts';
import type { AggregateFunction } from '../runtime/operators/types.ts';
import { countWindowOperator } from '../runtime/operators/window/count-window-operator.ts';
import { timeWindowOperator } from '../runtime/operators/window/time-window-operator.ts';
import type { CountWindow, ProcessWindowFunctionLike, TimeWindow, Window, WindowAssigner, WindowResultFunction } from '../runtime/operators/window/types.ts';
import { aggregateContents, listContents, reduceContents, type WindowContents } from '../runtime/operators/window/window-contents.ts';
import type { WindowFunction } from '../runtime/operators/window/window-emitter.ts';
import type { KeySelector, OperatorFactory } from '../runtime/types.ts';
import type { KeyValue } from '../state/index.ts';
import type { DataStream } from './data-stream.ts';

/** How the stream is cut: by a time window assigner, or into count windows. */
export type WindowKind<T> = { readonly kind: 'time'; readonly assigner: WindowAssigner<T> } | { readonly kind: 'count'; readonly size: number; readonly slide?: number };

function isProcessWindowFunction(fn: unknown): fn is ProcessWindowFunctionLike<unknown, unknown, KeyValue, Window> {
  return typeof fn === 'object' && fn !== null && typeof (fn as { process?: unknown }).process === 'function';
}

/**
 * A keyed stream cut into windows: time windows (`keyed.window(assigner)`) or count windows
 * (`keyed.countWindow(size, slide?)`). `W` is what window functions get as the window.
 *
 * @example
 * keyed.window(EventTimeSessionWindows.withGap(60_000)).allowedLateness(300_000).sideOutputLateData(late).aggregate(count)
 */
export class WindowedStream<T, K extends KeyValue, W extends Window = TimeWindow> {
  private latenessMs = 0;
  private lateTag: OutputTag<T> | undefined;

  constructor(
    private readonly add: <O>(type: string, operator: OperatorFactory) => DataStream<O>,
    private readonly windows: WindowKind<T>,
    private readonly keySelector: (value: T) => K,
  ) {}

  /**
   * Event-time windows keep their contents `ms` past their end: each record arriving in that
   * time (late, but not too late) makes its window fire again with the updated result. Records
   * later than that go to {@link sideOutputLateData}, or are dropped and counted
   * (`lateRecordsDropped` in the job result's operator, `baton_late_records_dropped_total`).
   * Default 0.
   *
   * @example keyed.window(TumblingEventTimeWindows.of(60_000)).allowedLateness(10_000).aggregate(count)
   */
  allowedLateness(ms: number): this {
    this.requireEventTime('allowedLateness');
    if (!Number.isInteger(ms) || ms < 0) throw new JobConfigError('allowedLateness', `must be an integer of milliseconds >= 0, got ${ms}`);
    this.latenessMs = ms;
    return this;
  }

  /**
   * Records too late for every window of theirs (past the allowed lateness) go to the side output
   * `tag` instead of being dropped; read it with `getSideOutput(tag)` on the windowed result.
   *
   * @example
   * const late = new OutputTag<Click>('late-clicks');
   * const counts = keyed.window(TumblingEventTimeWindows.of(60_000)).sideOutputLateData(late).aggregate(count).uid('counts');
   * counts.getSideOutput(late).sinkTo(Sinks.file({ path: 'late.jsonl' })).uid('late-out');
   */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.requireEventTime('sideOutputLateData');
    if (!(tag instanceof OutputTag)) throw new JobConfigError('sideOutputLateData', 'expected an OutputTag');
    this.lateTag = tag;
    return this;
  }

  /**
   * Aggregates each window incrementally (one accumulator per window in state); emits the result
   * when the window fires. With `resultFn` the output can include the key and the window; with a
   * ProcessWindowFunction, its `process` gets the result as its one element, with window
   * metadata and state. Session windows need the aggregate's `merge`.
   *
   * @example
   * keyed.window(TumblingEventTimeWindows.of(1000))
   *   .aggregate(sumAggregate, (key, w, sum) => ({ key, start: w.start, sum }))
   */
  aggregate<ACC, R>(aggregate: AggregateFunction<T, ACC, R>): DataStream<R>;
  aggregate<ACC, R, O>(aggregate: AggregateFunction<T, ACC, R>, resultFn: WindowResultFunction<K, R, O, W>): DataStream<O>;
  aggregate<ACC, R, O>(aggregate: AggregateFunction<T, ACC, R>, processFn: ProcessWindowFunctionLike<R, O, K, W>): DataStream<O>;
  aggregate<ACC, R, O>(
    aggregate: AggregateFunction<T, ACC, R>,
    fn?: WindowResultFunction<K, R, O, W> | ProcessWindowFunctionLike<R, O, K, W>,
  ): DataStream<O | R> {
    if (!aggregate || typeof aggregate.add !== 'function' || typeof aggregate.createAccumulator !== 'function' || typeof aggregate.getResult !== 'function') {
      throw new JobConfigError('aggregate', 'expected an AggregateFunction with createAccumulator, add and getResult');
    }
    if (this.windows.kind === 'time' && this.windows.assigner.kind === 'merging' && typeof aggregate.merge !== 'function') {
      throw new JobConfigError('aggregate', 'session windows merge accumulators: the AggregateFunction needs merge(a, b)');
    }
    return this.build(aggregateContents(aggregate) as WindowContents<T, unknown, unknown>, this.windowFunction('aggregate', fn));
  }

  /**
   * Reduces each window incrementally to one value of the input type. As for `aggregate`, an
   * optional result function or ProcessWindowFunction gets the reduced value with its key and
   * window. The function must not modify its arguments in place when windows overlap (sliding).
   *
   * @example keyed.window(SlidingEventTimeWindows.of(60_000, 10_000)).reduce((a, b) => ({ ...a, n: a.n + b.n }))
   */
  reduce(fn: (accumulated: T, value: T) => T): DataStream<T>;
  reduce<O>(fn: (accumulated: T, value: T) => T, resultFn: WindowResultFunction<K, T, O, W>): DataStream<O>;
  reduce<O>(fn: (accumulated: T, value: T) => T, processFn: ProcessWindowFunctionLike<T, O, K, W>): DataStream<O>;
  reduce<O>(fn: (accumulated: T, value: T) => T, windowFn?: WindowResultFunction<K, T, O, W> | ProcessWindowFunctionLike<T, O, K, W>): DataStream<O | T> {
    if (typeof fn !== 'function') throw new JobConfigError('reduce', `expected a function, got ${typeof fn}`);
    return this.build(reduceContents(fn) as WindowContents<T, unknown, unknown>, this.windowFunction('reduce', windowFn));
  }

  /**
   * Evaluates each window with a ProcessWindowFunction: its key, the window (`{ start, end }`, or
   * a count window's `{ index, count }`), every element in arrival order, per-window and per-key
   * state, side outputs. Keeps all elements in state until the window fires; prefer `aggregate`
   * with a process function when a running result is enough.
   *
   * @example keyed.window(EventTimeSessionWindows.withGap(60_000)).process(new SessionSummary()).uid('sessions')
   */
  process<O>(fn: ProcessWindowFunctionLike<T, O, K, W>): DataStream<O> {
    if (!isProcessWindowFunction(fn)) throw new JobConfigError('process', 'expected a ProcessWindowFunction (an object with process)');
    return this.build(listContents<T>() as WindowContents<T, unknown, unknown>, { kind: 'process', fn: fn as unknown as ProcessWindowFunctionLike<unknown, unknown, K, W> });
  }

  private windowFunction(what: string, fn: unknown): WindowFunction<K, W> {
    if (fn === undefined) return { kind: 'none' };
    if (typeof fn === 'function') return { kind: 'result', fn: fn as WindowResultFunction<K, unknown, unknown, W> };
    if (isProcessWindowFunction(fn)) return { kind: 'process', fn: fn as ProcessWindowFunctionLike<unknown, unknown, K, W> };
    throw new JobConfigError(`${what} window function`, 'expected a function (key, window, result) => output or a ProcessWindowFunction');
  }

  private build<O>(contents: WindowContents<T, unknown, unknown>, fn: WindowFunction<K, W>): DataStream<O> {
    const keySelector = this.keySelector as KeySelector<T>;
    const w = this.windows;
    if (w.kind === 'count') {
      const operator = countWindowOperator<T, K>({ size: w.size, slide: w.slide, contents, fn: fn as WindowFunction<K, CountWindow>, keySelector });
      return this.add<O>('count-window', operator);
    }
    const operator = timeWindowOperator<T, K>({
      assigner: w.assigner,
      contents,
      fn: fn as WindowFunction<K, TimeWindow>,
      keySelector,
      allowedLatenessMs: this.latenessMs,
      lateDataTag: this.lateTag?.id,
    });
    return this.add<O>('window', operator);
  }

  private requireEventTime(setting: string): void {
    const w = this.windows;
    if (w.kind === 'time' && w.assigner.timeDomain === 'event-time') return;
    const what = w.kind === 'count' ? 'count windows' : 'processing-time windows';
    throw new JobConfigError(setting, `applies to event-time windows only; ${what} have no late records`);
  }
}
