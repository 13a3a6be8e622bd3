// Contracts of windowing: window kinds, assigners, the functions a window calls, and their context.
import type { KeyValue, ListState, MapState, ValueState } from '../../../state/index.ts';
import type { OutputTag } from '../output-tag.ts';
import type { Collector, KeyedRuntimeContext, TimeWindow } from '../types.ts';

export type { TimeWindow } from '../types.ts';

/**
 * A count window as a window function sees it: the `index`-th firing of its key (from 0) and the
 * `count` elements it holds (fewer than the size only for a sliding count window's first firings).
 */
export interface CountWindow {
  readonly index: number;
  readonly count: number;
}

/** What a window function gets as the window: a time window `[start, end)` or a count window. */
export type Window = TimeWindow | CountWindow;

export type WindowTimeDomain = 'event-time' | 'processing-time';

/**
 * Assigns an element to time windows. `timestamp` is the element's event time, or processing
 * time now for a processing-time assigner. Fixed windows (tumbling, sliding) all have `sizeMs`;
 * merging ones (sessions) start as one window per element and merge those that intersect.
 */
export interface WindowAssigner<T = unknown> {
  readonly timeDomain: WindowTimeDomain;
  /** `'fixed'`: every window is `[start, start + sizeMs)`; `'merging'`: windows that intersect merge. */
  readonly kind: 'fixed' | 'merging';
  /** Size of every window of a fixed assigner. */
  readonly sizeMs?: number;
  assignWindows(element: T, timestamp: number): readonly TimeWindow[];
}

/** The window function of `aggregate(agg, resultFn)` and `reduce(fn, resultFn)`: the result with its key and window. */
export type WindowResultFunction<K, R, O, W extends Window = TimeWindow> = (key: K, window: W, result: R) => O;

/** State of one key (`globalState`) or of one key and window (`windowState`). */
export interface WindowStateStore {
  valueState<T>(name: string): ValueState<T>;
  listState<T>(name: string): ListState<T>;
  mapState<UK extends KeyValue, UV>(name: string): MapState<UK, UV>;
}

/** What a process window function sees of the window it evaluates. */
export interface ProcessWindowContext<W extends Window = TimeWindow> {
  readonly window: W;
  currentProcessingTime(): number;
  currentWatermark(): number;
  /**
   * State of this key and window, removed when the window is purged (a time window at its
   * cleanup time; a count window's state lives as long as the key's, as Flink's global window).
   * Not available for merging (session) windows: using it fails the job, as in Flink.
   */
  readonly windowState: WindowStateStore;
  /** State of this key, shared by all its windows. Names starting with `window-` are reserved. */
  readonly globalState: WindowStateStore;
  /** Emits `value` to the side output `tag` with the window's output timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Structural shape of a process window function (the api's abstract class satisfies it). */
export interface ProcessWindowFunctionLike<IN, OUT, K extends KeyValue, W extends Window = TimeWindow> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  /** Evaluates one window: all its elements (or the one pre-aggregated result), in arrival order. */
  process(key: K, ctx: ProcessWindowContext<W>, elements: readonly IN[], out: Collector<OUT>): void;
  /** The window is purged: clean up what `process` kept outside `windowState`. */
  clear?(ctx: ProcessWindowContext<W>): void;
  close?(): void | Promise<void>;
}
