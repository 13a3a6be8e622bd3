// Base of keyed operators with timers: timers fire on watermarks and travel in checkpoints.
import type { OperatorContext } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import type { KeyValue } from '../../state/index.ts';
import { KeyedTimers, restoreTimers, type TimerDomain, type TimersSnapshot } from './keyed-timers.ts';

export abstract class TimerOperator extends BaseOperator {
  protected readonly timers: KeyedTimers;

  constructor(ctx: OperatorContext) {
    super(ctx);
    this.timers = new KeyedTimers(ctx, (key, timestamp, domain) => this.fireTimer(key, timestamp, domain));
  }

  /** A timer of `key` is due. */
  protected abstract fireTimer(key: KeyValue, timestamp: number, domain: TimerDomain): void;

  snapshotState(): TimersSnapshot {
    return { timers: this.timers.snapshot() };
  }

  initializeState(states: readonly unknown[]): void {
    restoreTimers(this.timers, this.ctx, states);
  }

  override processWatermark(watermark: number): void {
    this.timers.advanceWatermark(watermark);
    this.out.emitWatermark(watermark);
  }
}
