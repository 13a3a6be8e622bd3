// process on a keyed stream: user code with per-key state and timers.
import { JobConfigError } from '../errors.ts';
import { referenceData } from '../reference-data.ts';
import type { KeyedStateBackend, KeyValue } from '../../state/index.ts';
import { NO_TIMESTAMP, type KeySelector, type OperatorContext, type OperatorFactory, type Output } from '../types.ts';
import type { TimerDomain } from './keyed-timers.ts';
import { keyedStateHandles } from './keyed-state-access.ts';
import { operatorMetricGroup } from './operator-metrics.ts';
import type { OutputTag } from './output-tag.ts';
import { TimerOperator } from './timer-operator.ts';
import { userFailure } from './operator-failure.ts';
import type {
  Collector,
  KeyedProcessFunctionLike,
  KeyedRuntimeContext,
  OnTimerContext,
  TimerService,
} from './types.ts';

/** Builds the keyed runtime context user functions get in `open`. */
export function keyedRuntimeContext(ctx: OperatorContext, state: KeyedStateBackend): KeyedRuntimeContext {
  return {
    uid: ctx.uid,
    subtaskIndex: ctx.subtaskIndex,
    parallelism: ctx.parallelism,
    referenceData,
    ...keyedStateHandles(ctx, state),
    metrics: operatorMetricGroup(ctx),
  };
}

export function requireKeyedState(ctx: OperatorContext): KeyedStateBackend {
  if (!ctx.keyedState) throw new JobConfigError(`operator '${ctx.uid}'`, 'needs a keyed input (call keyBy first)');
  return ctx.keyedState;
}

export class KeyedProcessOperator<K extends KeyValue, I, O> extends TimerOperator implements Collector<O> {
  private readonly state: KeyedStateBackend;
  private outTimestamp = NO_TIMESTAMP;
  // One mutable context object reused for every call: no allocation per record.
  private readonly context: {
    key: K;
    timestamp: number | undefined;
    timerService: TimerService;
    timeDomain: TimerDomain;
    output: <X>(tag: OutputTag<X>, value: X) => void;
  };

  constructor(
    ctx: OperatorContext,
    private readonly fn: KeyedProcessFunctionLike<K, I, O>,
    private readonly keySelector: KeySelector<I>,
  ) {
    super(ctx);
    this.state = requireKeyedState(ctx);
    const timers = this.timers;
    const timerService: TimerService = {
      // The subtask's clock (a manual one in tests), read only when the user function asks.
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

  override async open(output: Output): Promise<void> {
    this.out = output;
    try {
      await this.fn.open?.(keyedRuntimeContext(this.ctx, this.state));
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  collect(value: O): void {
    this.out.collect(value, this.outTimestamp);
  }

  processElement(value: unknown, timestamp: number): void {
    const ctx = this.context;
    try {
      const key = this.keySelector(value as I) as K;
      this.state.setCurrentKey(key);
      ctx.key = key;
      ctx.timestamp = timestamp === NO_TIMESTAMP ? undefined : timestamp;
      this.outTimestamp = timestamp;
      this.fn.processElement(value as I, ctx, this);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  override endInput(): void {
    this.timers.fireAllProcessingTimers();
  }

  override async close(): Promise<unknown> {
    this.timers.dispose();
    try {
      await this.fn.close?.();
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    return undefined;
  }

  protected fireTimer(key: KeyValue, timestamp: number, domain: TimerDomain): void {
    if (!this.fn.onTimer) return;
    const ctx = this.context;
    this.state.setCurrentKey(key);
    ctx.key = key as K;
    ctx.timestamp = domain === 'event-time' ? timestamp : undefined;
    ctx.timeDomain = domain;
    this.outTimestamp = domain === 'event-time' ? timestamp : NO_TIMESTAMP;
    try {
      this.fn.onTimer(timestamp, ctx as OnTimerContext<K>, this);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }
}

export function keyedProcessOperator<K extends KeyValue, I, O>(
  fn: KeyedProcessFunctionLike<K, I, O>,
  keySelector: KeySelector<I>,
): OperatorFactory {
  return { create: (ctx) => new KeyedProcessOperator(ctx, fn, keySelector) };
}
