// Window assigners for keyed streams.
import { JobConfigError } from '../runtime/errors.ts';
import type { TumblingWindowSpec } from '../runtime/operators/tumbling-window.ts';

/**
 * Fixed-size, non-overlapping event-time windows `[start, start + size)`.
 *
 * @example
 * keyed.window(TumblingEventTimeWindows.of(60_000)).aggregate(countAggregate)
 */
export class TumblingEventTimeWindows implements TumblingWindowSpec {
  private constructor(
    readonly sizeMs: number,
    readonly offsetMs: number,
  ) {}

  static of(sizeMs: number, offsetMs = 0): TumblingEventTimeWindows {
    if (!Number.isInteger(sizeMs) || sizeMs <= 0) {
      throw new JobConfigError('TumblingEventTimeWindows size', `must be a positive integer of milliseconds, got ${sizeMs}`);
    }
    if (!Number.isInteger(offsetMs) || Math.abs(offsetMs) >= sizeMs) {
      throw new JobConfigError('TumblingEventTimeWindows offset', `must be an integer with |offset| < size, got ${offsetMs}`);
    }
    return new TumblingEventTimeWindows(sizeMs, offsetMs);
  }
}
