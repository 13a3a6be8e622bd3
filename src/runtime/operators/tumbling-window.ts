// Tumbling event-time windows with an incremental aggregate, fired by event-time timers.
import type { KeyedStateBackend, KeyValue, MapState } from '../../state/types.ts';
import { NO_TIMESTAMP, type KeySelector, type OperatorContext, type OperatorFactory } from '../types.ts';
import { requireKeyedState } from './keyed-process.ts';
import { TimerOperator } from './timer-operator.ts';
import { userFailure } from './operator-failure.ts';
import type { AggregateFunction, TimeWindow } from './types.ts';

export interface TumblingWindowSpec {
  readonly sizeMs: number;
  readonly offsetMs: number;
}

/** Start of the tumbling window containing `timestamp` (also right for negative times). */
export function tumblingWindowStart(timestamp: number, sizeMs: number, offsetMs: number): number {
  const remainder = (((timestamp - offsetMs) % sizeMs) + sizeMs) % sizeMs;
  return timestamp - remainder;
}

export type WindowResultFunction<K, R, O> = (key: K, window: TimeWindow, result: R) => O;

export class TumblingWindowOperator<K extends KeyValue, T, ACC, R, O> extends TimerOperator {
  private readonly state: KeyedStateBackend;
  private readonly windows: MapState<number, ACC>;
  lateRecordsDropped = 0;

  constructor(
    ctx: OperatorContext,
    private readonly spec: TumblingWindowSpec,
    private readonly aggregate: AggregateFunction<T, ACC, R>,
    private readonly resultFn: WindowResultFunction<K, R, O> | undefined,
    private readonly keySelector: KeySelector<T>,
  ) {
    super(ctx);
    this.state = requireKeyedState(ctx);
    this.windows = this.state.mapState<number, ACC>('window-accumulators');
  }

  processElement(value: unknown, timestamp: number): void {
    if (timestamp === NO_TIMESTAMP) {
      throw userFailure(
        new Error('record has no event timestamp: call assignTimestampsAndWatermarks before an event-time window'),
        this.ctx,
      );
    }
    const start = tumblingWindowStart(timestamp, this.spec.sizeMs, this.spec.offsetMs);
    const lastTimestamp = start + this.spec.sizeMs - 1;
    if (lastTimestamp <= this.timers.currentWatermark()) {
      this.lateRecordsDropped++;
      return;
    }
    try {
      const key = this.keySelector(value as T);
      this.state.setCurrentKey(key);
      const previous = this.windows.get(start);
      const acc = this.aggregate.add(value as T, previous === undefined ? this.aggregate.createAccumulator() : previous);
      this.windows.put(start, acc);
      if (previous === undefined) this.timers.registerEventTime(key, lastTimestamp);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override close(): unknown {
    this.timers.dispose();
    return undefined;
  }

  protected fireTimer(key: KeyValue, lastTimestamp: number): void {
    const start = lastTimestamp + 1 - this.spec.sizeMs;
    this.state.setCurrentKey(key);
    const acc = this.windows.get(start);
    if (acc === undefined) return;
    this.windows.remove(start);
    let output: unknown;
    try {
      const result = this.aggregate.getResult(acc);
      output = this.resultFn ? this.resultFn(key as K, { start, end: start + this.spec.sizeMs }, result) : result;
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.out.collect(output, lastTimestamp);
  }
}

export function tumblingWindowOperator<K extends KeyValue, T, ACC, R, O>(
  spec: TumblingWindowSpec,
  aggregate: AggregateFunction<T, ACC, R>,
  resultFn: WindowResultFunction<K, R, O> | undefined,
  keySelector: KeySelector<T>,
): OperatorFactory {
  return { create: (ctx) => new TumblingWindowOperator(ctx, spec, aggregate, resultFn, keySelector) };
}
