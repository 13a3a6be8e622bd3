// connect on keyed streams: two inputs, each keyed by its own selector, sharing each key's state and timers.
import type { KeyedStateBackend, KeyValue } from '../../state/index.ts';
import { type KeySelector, NO_TIMESTAMP, type OperatorContext, type OperatorFactory, type Output } from '../types.ts';
import { keyedRuntimeContext, requireKeyedState } from './keyed-process.ts';
import type { TimerDomain } from './keyed-timers.ts';
import { userFailure } from './operator-failure.ts';
import type { OutputTag } from './output-tag.ts';
import { TimerOperator } from './timer-operator.ts';
import type { KeyedCoProcessFunctionLike } from './two-input-types.ts';
import type { Collector, OnTimerContext, TimerService } from './types.ts';

/** The mutable context keyed two-input operators reuse for every call (no allocation per record). */
export interface KeyedCallContext<K extends KeyValue> {
  key: K;
  timestamp: number | undefined;
  timerService: TimerService;
  timeDomain: TimerDomain;
  output: <X>(tag: OutputTag<X>, value: X) => void;
}

/**
 * Base of the keyed two-input operators: keyed state, timers of the current key, output timestamps,
 * side outputs. Timers and the watermark (the minimum of both inputs') come from TimerOperator.
 */
export abstract class KeyedTwoInputOperator<K extends KeyValue> extends TimerOperator implements Collector<unknown> {
  protected readonly state: KeyedStateBackend;
  protected outTimestamp = NO_TIMESTAMP;
  protected readonly context: KeyedCallContext<K>;

  constructor(ctx: OperatorContext) {
    super(ctx);
    this.state = requireKeyedState(ctx);
    const timers = this.timers;
    const timerService: TimerService = {
      currentProcessingTime: () => ctx.currentProcessingTime(),
      currentWatermark: () => timers.currentWatermark(),
      registerEventTimeTimer: (t) => timers.registerEventTime(this.context.key, t),
      registerProcessingTimeTimer: (t) => timers.registerProcessingTime(this.context.key, t),
      deleteEventTimeTimer: (t) => timers.deleteEventTime(this.context.key, t),
      deleteProcessingTimeTimer: (t) => timers.deleteProcessingTime(this.context.key, t),
    };
    const output = <X>(tag: OutputTag<X>, value: X): void => this.out.side?.(tag.id, value, this.outTimestamp);
    this.context = { key: undefined as unknown as K, timestamp: undefined, timerService, timeDomain: 'event-time', output };
  }

  abstract override processElement(value: unknown, timestamp: number): void;
  abstract processElement2(value: unknown, timestamp: number): void;

  collect(value: unknown): void {
    this.out.collect(value, this.outTimestamp);
  }

  /** Makes `key` current for state, timers and the context, with the record's time. */
  protected enter(key: K, timestamp: number): void {
    this.state.setCurrentKey(key);
    this.context.key = key;
    this.context.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
    this.outTimestamp = timestamp;
  }

  /** A timer of `key` fires: the context becomes an OnTimerContext of that key. */
  protected enterTimer(key: KeyValue, timestamp: number, domain: TimerDomain): void {
    this.enter(key as K, domain === 'event-time' ? timestamp : NO_TIMESTAMP);
    this.context.timeDomain = domain;
  }

  protected async openFunction(output: Output, fn: { open?(ctx: ReturnType<typeof keyedRuntimeContext>): void | Promise<void> }): Promise<void> {
    this.out = output;
    try {
      await fn.open?.(keyedRuntimeContext(this.ctx, this.state));
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  protected async closeFunction(fn: { close?(): void | Promise<void> }): Promise<unknown> {
    this.timers.dispose();
    try {
      await fn.close?.();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    return undefined;
  }

  /** Bounded input ended: pending processing-time timers fire now (as for KeyedProcessFunction). */
  override endInput(): void {
    this.timers.fireAllProcessingTimers();
  }
}

export class KeyedCoProcessOperator<K extends KeyValue, I1, I2, O> extends KeyedTwoInputOperator<K> {
  constructor(
    ctx: OperatorContext,
    private readonly fn: KeyedCoProcessFunctionLike<K, I1, I2, O>,
    private readonly keySelector1: KeySelector<I1>,
    private readonly keySelector2: KeySelector<I2>,
  ) {
    super(ctx);
  }

  override open(output: Output): Promise<void> {
    return this.openFunction(output, this.fn);
  }

  processElement(value: unknown, timestamp: number): void {
    try {
      this.enter(this.keySelector1(value as I1) as K, timestamp);
      this.fn.processElement1(value as I1, this.context, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  processElement2(value: unknown, timestamp: number): void {
    try {
      this.enter(this.keySelector2(value as I2) as K, timestamp);
      this.fn.processElement2(value as I2, this.context, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override close(): Promise<unknown> {
    return this.closeFunction(this.fn);
  }

  protected fireTimer(key: KeyValue, timestamp: number, domain: TimerDomain): void {
    if (!this.fn.onTimer) return;
    this.enterTimer(key, timestamp, domain);
    try {
      this.fn.onTimer(timestamp, this.context as OnTimerContext<K>, this as Collector<O>);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }
}

export function keyedCoProcessOperator<K extends KeyValue, I1, I2, O>(
  fn: KeyedCoProcessFunctionLike<K, I1, I2, O>,
  keySelector1: KeySelector<I1>,
  keySelector2: KeySelector<I2>,
): OperatorFactory {
  return { create: (ctx) => new KeyedCoProcessOperator(ctx, fn, keySelector1, keySelector2) };
}
