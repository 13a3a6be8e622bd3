// assignTimestampsAndWatermarks: stamps records with event time and emits bounded-out-of-orderness watermarks.
import { MAX_WATERMARK, NO_TIMESTAMP, type OperatorContext, type OperatorFactory } from '../types.ts';
import { BaseOperator } from './base-operator.ts';
import { userFailure } from './operator-failure.ts';
import type { WatermarkStrategyLike } from './types.ts';

export class WatermarkAssignerOperator<T> extends BaseOperator {
  private maxTimestamp = Number.NEGATIVE_INFINITY;
  private emitted = Number.NEGATIVE_INFINITY;
  /** Processing time of the last periodic emission; -Infinity: the first batch end emits, whatever the clock's start. */
  private lastEmitAt = Number.NEGATIVE_INFINITY;

  constructor(
    ctx: OperatorContext,
    private readonly strategy: WatermarkStrategyLike<T>,
    private readonly intervalMs: number,
  ) {
    super(ctx);
  }

  processElement(value: unknown, timestamp: number): void {
    let ts: number;
    try {
      ts = this.strategy.timestampAssigner(value as T, timestamp === NO_TIMESTAMP ? undefined : timestamp);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      throw userFailure(new TypeError(`timestamp assigner returned ${String(ts)}, expected a finite number of milliseconds`), this.ctx);
    }
    if (ts > this.maxTimestamp) this.maxTimestamp = ts;
    this.out.collect(value, ts);
  }

  // Watermarks are emitted at batch ends, at most every intervalMs: per record would flood channels.
  // The interval is processing time (one clock read per batch, as before), so a test's manual
  // clock decides when periodic watermarks go out; intervalMs 0 reads no clock and emits at every batch end.
  override endOfBatch(): void {
    if (this.intervalMs > 0) {
      const now = this.ctx.currentProcessingTime();
      if (now - this.lastEmitAt < this.intervalMs) return;
      this.lastEmitAt = now;
    }
    const watermark = this.maxTimestamp - this.strategy.maxOutOfOrdernessMs - 1;
    if (watermark > this.emitted) {
      this.emitted = watermark;
      this.out.emitWatermark(watermark);
    }
  }

  // Upstream watermarks are replaced by ours, except the end-of-input one.
  override processWatermark(watermark: number): void {
    if (watermark === MAX_WATERMARK && this.emitted !== MAX_WATERMARK) {
      this.emitted = MAX_WATERMARK;
      this.out.emitWatermark(MAX_WATERMARK);
    }
  }
}

export function watermarkAssignerOperator<T>(strategy: WatermarkStrategyLike<T>, intervalMs: number): OperatorFactory {
  return { create: (ctx) => new WatermarkAssignerOperator(ctx, strategy, intervalMs) };
}
