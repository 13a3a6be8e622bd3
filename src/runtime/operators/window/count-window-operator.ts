// Count windows per key: tumbling (every `size` elements) or sliding (the last `size`, every `slide` elements).
import type { KeyedStateBackend, KeyValue, ValueState } from '../../../state/index.ts';
import { NO_TIMESTAMP, type KeySelector, type OperatorContext, type OperatorFactory, type Output } from '../../types.ts';
import { BaseOperator } from '../base-operator.ts';
import { requireKeyedState } from '../keyed-process.ts';
import { userFailure } from '../operator-failure.ts';
import type { CountWindow } from './types.ts';
import type { WindowContents } from './window-contents.ts';
import { WindowEmitter, type WindowFunction } from './window-emitter.ts';

export interface CountWindowSpec<T, K extends KeyValue> {
  readonly size: number;
  /** Absent (or equal to `size`): tumbling. */
  readonly slide?: number;
  readonly contents: WindowContents<T, unknown, unknown>;
  readonly fn: WindowFunction<K, CountWindow>;
  readonly keySelector: KeySelector<T>;
}

/** A key's tumbling count window: its contents so far. */
interface TumblingCount {
  readonly index: number;
  readonly count: number;
  readonly stored?: unknown;
  readonly maxTimestamp: number;
}

/** A key's sliding count window: its last `size` elements with their timestamps. */
interface SlidingCount {
  readonly index: number;
  /** Elements since the last firing. */
  readonly sinceFire: number;
  readonly elements: Array<[unknown, number]>;
}

/** Per-window state id of count windows: one per key, kept across firings (Flink's global window). */
const COUNT_WINDOW_ID = 0;

/**
 * Count windows as Flink's `countWindow`: tumbling fires and purges every `size` elements of a
 * key; sliding fires every `slide` elements with the key's last `size` elements (fewer at first).
 * A window not full when the input ends never fires (as in Flink). Output records carry the
 * highest timestamp of the window's elements (Flink's global window would give Long.MAX_VALUE).
 */
export class CountWindowOperator<K extends KeyValue, T> extends BaseOperator {
  private readonly state: KeyedStateBackend;
  private readonly window: ValueState<TumblingCount | SlidingCount>;
  private readonly emitter: WindowEmitter<K, CountWindow>;
  private readonly sliding: boolean;

  constructor(
    ctx: OperatorContext,
    private readonly spec: CountWindowSpec<T, K>,
  ) {
    super(ctx);
    this.state = requireKeyedState(ctx);
    this.sliding = spec.slide !== undefined && spec.slide !== spec.size;
    this.window = this.state.valueState(this.sliding ? 'window-count-sliding' : 'window-count');
    this.emitter = new WindowEmitter<K, CountWindow>(ctx, this.state, spec.fn, spec.contents, {
      merging: false,
      currentWatermark: () => this.watermark,
    });
  }

  private watermark = Number.NEGATIVE_INFINITY;

  override async open(output: Output): Promise<void> {
    this.out = output;
    await this.emitter.open(output);
  }

  override processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.out.emitWatermark(watermark);
  }

  processElement(value: unknown, timestamp: number): void {
    let key: K;
    try {
      key = this.spec.keySelector(value as T) as K;
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.state.setCurrentKey(key);
    if (this.sliding) this.addSliding(key, value as T, timestamp);
    else this.addTumbling(key, value as T, timestamp);
  }

  private addTumbling(key: K, value: T, timestamp: number): void {
    const current = (this.window.value() as TumblingCount | undefined) ?? { index: 0, count: 0, maxTimestamp: NO_TIMESTAMP };
    const stored = this.contentsAdd(current.stored, value);
    const count = current.count + 1;
    const maxTimestamp = Math.max(current.maxTimestamp, timestamp);
    if (count < this.spec.size) {
      this.window.update({ index: current.index, count, stored, maxTimestamp });
      return;
    }
    this.emitter.emit(key, { index: current.index, count }, COUNT_WINDOW_ID, stored, maxTimestamp);
    // Purged; the index of the next firing stays.
    this.window.update({ index: current.index + 1, count: 0, maxTimestamp: NO_TIMESTAMP });
  }

  private addSliding(key: K, value: T, timestamp: number): void {
    const current = (this.window.value() as SlidingCount | undefined) ?? { index: 0, sinceFire: 0, elements: [] };
    // Only the last `size` elements can ever be in a firing (Flink's count evictor, applied as they come).
    const elements = [...current.elements, [value, timestamp] as [unknown, number]].slice(-this.spec.size);
    const sinceFire = current.sinceFire + 1;
    if (sinceFire < this.spec.slide!) {
      this.window.update({ index: current.index, sinceFire, elements });
      return;
    }
    let stored: unknown;
    let maxTimestamp = NO_TIMESTAMP;
    for (const [element, ts] of elements) {
      stored = this.contentsAdd(stored, element as T);
      if (ts > maxTimestamp) maxTimestamp = ts;
    }
    this.emitter.emit(key, { index: current.index, count: elements.length }, COUNT_WINDOW_ID, stored, maxTimestamp);
    this.window.update({ index: current.index + 1, sinceFire: 0, elements });
  }

  private contentsAdd(stored: unknown, value: T): unknown {
    try {
      return this.spec.contents.add(stored, value);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override async close(): Promise<void> {
    await this.emitter.close();
  }
}

export function countWindowOperator<T, K extends KeyValue>(spec: CountWindowSpec<T, K>): OperatorFactory {
  return { create: (ctx) => new CountWindowOperator<K, T>(ctx, spec) };
}
