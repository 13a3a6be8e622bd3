// Evaluates a window: hands its contents to the window function (none, a result function, or a process window function).
import type { KeyedStateBackend, KeyValue } from '../../../state/index.ts';
import type { OperatorContext, Output } from '../../types.ts';
import { keyedRuntimeContext } from '../keyed-process.ts';
import { userFailure } from '../operator-failure.ts';
import type { OutputTag } from '../output-tag.ts';
import type { Collector } from '../types.ts';
import type { WindowContents } from './window-contents.ts';
import { globalWindowState, PerWindowState, unsupportedWindowState } from './window-state.ts';
import type { ProcessWindowContext, ProcessWindowFunctionLike, Window, WindowResultFunction, WindowStateStore } from './types.ts';

/** What a window emits: the contents' result as is, through a result function, or through a process window function. */
export type WindowFunction<K extends KeyValue, W extends Window> =
  | { readonly kind: 'none' }
  | { readonly kind: 'result'; readonly fn: WindowResultFunction<K, unknown, unknown, W> }
  | { readonly kind: 'process'; readonly fn: ProcessWindowFunctionLike<unknown, unknown, K, W> };

/** One context object reused for every evaluation: no allocation per window. */
interface MutableContext<W extends Window> extends ProcessWindowContext<W> {
  window: W;
}

export class WindowEmitter<K extends KeyValue, W extends Window> implements Collector<unknown> {
  private out!: Output;
  private timestamp = 0;
  private windowId = 0;
  private readonly perWindow: PerWindowState | undefined;
  private readonly context: MutableContext<W>;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly state: KeyedStateBackend,
    private readonly fn: WindowFunction<K, W>,
    private readonly contents: WindowContents<unknown, unknown, unknown>,
    options: { readonly merging: boolean; readonly currentWatermark: () => number },
  ) {
    // Only process window functions can use per-window state, and not on merging windows.
    this.perWindow = fn.kind === 'process' && !options.merging ? new PerWindowState(state, () => this.windowId) : undefined;
    const windowState: WindowStateStore = this.perWindow ?? unsupportedWindowState;
    this.context = {
      window: undefined as unknown as W,
      currentProcessingTime: () => ctx.currentProcessingTime(),
      currentWatermark: options.currentWatermark,
      windowState,
      globalState: globalWindowState(state),
      output: <X>(tag: OutputTag<X>, value: X) => this.out.side?.(tag.id, value, this.timestamp),
    };
  }

  async open(out: Output): Promise<void> {
    this.out = out;
    if (this.fn.kind !== 'process') return;
    try {
      await this.fn.fn.open?.(keyedRuntimeContext(this.ctx, this.state));
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  collect(value: unknown): void {
    this.out.collect(value, this.timestamp);
  }

  /**
   * Evaluates window `window` (per-window state id `windowId`) of the current key, whose stored
   * contents are `stored`; output records carry `timestamp`.
   */
  emit(key: K, window: W, windowId: number, stored: unknown, timestamp: number): void {
    this.timestamp = timestamp;
    const fn = this.fn;
    let output: unknown;
    try {
      switch (fn.kind) {
        case 'none':
          output = this.contents.result(stored);
          break;
        case 'result':
          output = fn.fn(key, window, this.contents.result(stored));
          break;
        case 'process': {
          this.windowId = windowId;
          this.context.window = window;
          fn.fn.process(key, this.context, this.contents.elements(stored), this);
          return;
        }
      }
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.out.collect(output, timestamp);
  }

  /** Window `window` of the current key is purged: the function's `clear`, then its per-window state. */
  clear(window: W, windowId: number): void {
    const fn = this.fn;
    if (fn.kind === 'process' && fn.fn.clear) {
      this.windowId = windowId;
      this.context.window = window;
      try {
        fn.fn.clear(this.context);
      } catch (error) {
        throw userFailure(error, this.ctx);
      }
    }
    this.perWindow?.clearWindow(windowId);
  }

  async close(): Promise<void> {
    if (this.fn.kind !== 'process') return;
    try {
      await this.fn.fn.close?.();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }
}
