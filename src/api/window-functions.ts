// ProcessWindowFunction: the user function that evaluates a whole window with its metadata and state.
import type { KeyValue } from '../state/index.ts';
import type { Collector, KeyedRuntimeContext } from '../runtime/operators/types.ts';
import type { ProcessWindowContext, TimeWindow, Window } from '../runtime/operators/window/types.ts';

export type {
  CountWindow,
  ProcessWindowContext,
  Window,
  WindowResultFunction,
  WindowStateStore,
} from '../runtime/operators/window/types.ts';

/**
 * Evaluates one window of one key: all its elements (or, after `aggregate`/`reduce`, the one
 * pre-aggregated result), the window (`{ start, end }`, or `{ index, count }` for count
 * windows), per-window state (`ctx.windowState`, purged with the window) and per-key state
 * (`ctx.globalState`). `clear` runs when a time window is purged.
 *
 * @example
 * class SessionSummary extends ProcessWindowFunction<Click, string, string> {
 *   process(user: string, ctx: ProcessWindowContext, clicks: readonly Click[], out: Collector<string>) {
 *     out.collect(`${user}: ${clicks.length} clicks in [${ctx.window.start}, ${ctx.window.end})`);
 *   }
 * }
 */
export abstract class ProcessWindowFunction<IN, OUT, K extends KeyValue, W extends Window = TimeWindow> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  abstract process(key: K, ctx: ProcessWindowContext<W>, elements: readonly IN[], out: Collector<OUT>): void;
  clear?(ctx: ProcessWindowContext<W>): void;
  close?(): void | Promise<void>;
}
