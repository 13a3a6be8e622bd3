// How a stream's event time and watermarks are derived from its records.
import { JobConfigError, MissingTimestampError } from '../runtime/index.ts';
import type { WatermarkStrategyLike } from '../runtime/operators/types.ts';

export type TimestampAssigner<T> = (value: T, previousTimestamp: number | undefined) => number;

/**
 * Event time plus bounded out-of-orderness: the watermark trails the highest timestamp seen
 * by `maxOutOfOrdernessMs`, so records at most that late are never dropped.
 *
 * @example
 * stream.assignTimestampsAndWatermarks(
 *   WatermarkStrategy.forBoundedOutOfOrderness<Click>(5_000).withTimestampAssigner((c) => c.at),
 * );
 */
export class WatermarkStrategy<T> implements WatermarkStrategyLike<T> {
  private constructor(
    readonly maxOutOfOrdernessMs: number,
    readonly timestampAssigner: TimestampAssigner<T>,
  ) {}

  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    if (!Number.isFinite(maxOutOfOrdernessMs) || maxOutOfOrdernessMs < 0) {
      throw new JobConfigError('WatermarkStrategy maxOutOfOrdernessMs', `must be a finite number >= 0, got ${maxOutOfOrdernessMs}`);
    }
    return new WatermarkStrategy<T>(maxOutOfOrdernessMs, missingAssigner);
  }

  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return WatermarkStrategy.forBoundedOutOfOrderness<T>(0);
  }

  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') throw new JobConfigError('WatermarkStrategy timestampAssigner', 'must be a function');
    return new WatermarkStrategy<T>(this.maxOutOfOrdernessMs, assigner);
  }
}

// Records that already carry a timestamp keep it; others are an error the user must fix.
function missingAssigner(_value: unknown, previous: number | undefined): number {
  if (previous === undefined) throw new MissingTimestampError('record has no timestamp and the WatermarkStrategy has no timestamp assigner');
  return previous;
}
