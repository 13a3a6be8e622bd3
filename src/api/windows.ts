// Window assigners for keyed streams: tumbling, sliding and session windows, in event or processing time.
import { JobConfigError } from '../runtime/index.ts';
import { slidingWindows, tumblingWindows } from '../runtime/operators/window/assign.ts';
import type { TimeWindow, WindowAssigner, WindowTimeDomain } from '../runtime/operators/window/types.ts';

function checkSize(what: string, ms: number): void {
  if (!Number.isInteger(ms) || ms <= 0) throw new JobConfigError(what, `must be a positive integer of milliseconds, got ${ms}`);
}

function checkOffset(what: string, offsetMs: number, stepMs: number): void {
  if (!Number.isInteger(offsetMs) || Math.abs(offsetMs) >= stepMs) {
    throw new JobConfigError(what, `must be an integer with |offset| < ${stepMs}, got ${offsetMs}`);
  }
}

/** Fixed-size, non-overlapping windows `[start, start + size)`, aligned to the epoch plus `offset`. */
abstract class TumblingWindows implements WindowAssigner {
  readonly kind = 'fixed';
  abstract readonly timeDomain: WindowTimeDomain;

  protected constructor(
    readonly sizeMs: number,
    readonly offsetMs: number,
  ) {}

  assignWindows(_element: unknown, timestamp: number): TimeWindow[] {
    return tumblingWindows(timestamp, this.sizeMs, this.offsetMs);
  }
}

/**
 * Fixed-size, non-overlapping event-time windows `[start, start + size)`.
 *
 * @example
 * keyed.window(TumblingEventTimeWindows.of(60_000)).aggregate(countAggregate)
 */
export class TumblingEventTimeWindows extends TumblingWindows {
  readonly timeDomain = 'event-time';

  static of(sizeMs: number, offsetMs = 0): TumblingEventTimeWindows {
    checkSize('TumblingEventTimeWindows size', sizeMs);
    checkOffset('TumblingEventTimeWindows offset', offsetMs, sizeMs);
    return new TumblingEventTimeWindows(sizeMs, offsetMs);
  }
}

/**
 * Fixed-size, non-overlapping windows of processing time (the operator's clock when a record
 * arrives); they fire when the clock reaches their end.
 *
 * @example
 * keyed.window(TumblingProcessingTimeWindows.of(10_000)).reduce((a, b) => a + b)
 */
export class TumblingProcessingTimeWindows extends TumblingWindows {
  readonly timeDomain = 'processing-time';

  static of(sizeMs: number, offsetMs = 0): TumblingProcessingTimeWindows {
    checkSize('TumblingProcessingTimeWindows size', sizeMs);
    checkOffset('TumblingProcessingTimeWindows offset', offsetMs, sizeMs);
    return new TumblingProcessingTimeWindows(sizeMs, offsetMs);
  }
}

/** Windows of `size` starting every `slide`: a record belongs to about size / slide of them. */
abstract class SlidingWindows implements WindowAssigner {
  readonly kind = 'fixed';
  abstract readonly timeDomain: WindowTimeDomain;

  protected constructor(
    readonly sizeMs: number,
    readonly slideMs: number,
    readonly offsetMs: number,
  ) {}

  assignWindows(_element: unknown, timestamp: number): TimeWindow[] {
    return slidingWindows(timestamp, this.sizeMs, this.slideMs, this.offsetMs);
  }
}

function checkSliding(name: string, sizeMs: number, slideMs: number, offsetMs: number): void {
  checkSize(`${name} size`, sizeMs);
  checkSize(`${name} slide`, slideMs);
  if (slideMs > sizeMs) throw new JobConfigError(`${name} slide`, `must be at most the size (${sizeMs} ms), got ${slideMs}: records between windows would belong to none`);
  checkOffset(`${name} offset`, offsetMs, slideMs);
}

/**
 * Overlapping event-time windows of `size`, one starting every `slide`.
 *
 * @example
 * // a 10-minute average, updated every minute
 * keyed.window(SlidingEventTimeWindows.of(600_000, 60_000)).aggregate(average)
 */
export class SlidingEventTimeWindows extends SlidingWindows {
  readonly timeDomain = 'event-time';

  static of(sizeMs: number, slideMs: number, offsetMs = 0): SlidingEventTimeWindows {
    checkSliding('SlidingEventTimeWindows', sizeMs, slideMs, offsetMs);
    return new SlidingEventTimeWindows(sizeMs, slideMs, offsetMs);
  }
}

/**
 * Overlapping processing-time windows of `size`, one starting every `slide`.
 *
 * @example
 * keyed.window(SlidingProcessingTimeWindows.of(60_000, 10_000)).reduce((a, b) => a + b)
 */
export class SlidingProcessingTimeWindows extends SlidingWindows {
  readonly timeDomain = 'processing-time';

  static of(sizeMs: number, slideMs: number, offsetMs = 0): SlidingProcessingTimeWindows {
    checkSliding('SlidingProcessingTimeWindows', sizeMs, slideMs, offsetMs);
    return new SlidingProcessingTimeWindows(sizeMs, slideMs, offsetMs);
  }
}

/** Per-element session gap: how long after this element the session stays open. */
export type SessionGapExtractor<T> = (element: T) => number;

/**
 * Sessions: each record opens a window `[t, t + gap)`; windows that overlap or touch merge, so a
 * session ends after `gap` ms without records of its key.
 */
abstract class SessionWindows<T> implements WindowAssigner<T> {
  readonly kind = 'merging';
  abstract readonly timeDomain: WindowTimeDomain;

  protected constructor(private readonly gap: SessionGapExtractor<T>) {}

  assignWindows(element: T, timestamp: number): TimeWindow[] {
    const gap = this.gap(element);
    if (!Number.isInteger(gap) || gap <= 0) throw new RangeError(`session gap must be a positive integer of milliseconds, got ${gap}`);
    return [{ start: timestamp, end: timestamp + gap }];
  }
}

/**
 * Event-time sessions per key, closed after `gap` ms of event time without records.
 *
 * @example
 * keyed.window(EventTimeSessionWindows.withGap(30 * 60_000)).process(new SessionSummary())
 */
export class EventTimeSessionWindows<T = unknown> extends SessionWindows<T> {
  readonly timeDomain = 'event-time';

  static withGap(gapMs: number): EventTimeSessionWindows {
    checkSize('EventTimeSessionWindows gap', gapMs);
    return new EventTimeSessionWindows(() => gapMs);
  }

  /**
   * A gap per record (e.g. from its kind): the session stays open `gap(record)` ms after it.
   *
   * @example EventTimeSessionWindows.withDynamicGap((e: Event) => (e.mobile ? 60_000 : 30_000))
   */
  static withDynamicGap<T>(gap: SessionGapExtractor<T>): EventTimeSessionWindows<T> {
    if (typeof gap !== 'function') throw new JobConfigError('EventTimeSessionWindows gap', 'expected a function (element) => ms');
    return new EventTimeSessionWindows(gap);
  }
}

/**
 * Processing-time sessions per key, closed after `gap` ms of the operator's clock without records.
 *
 * @example
 * keyed.window(ProcessingTimeSessionWindows.withGap(5_000)).aggregate(countAggregate)
 */
export class ProcessingTimeSessionWindows<T = unknown> extends SessionWindows<T> {
  readonly timeDomain = 'processing-time';

  static withGap(gapMs: number): ProcessingTimeSessionWindows {
    checkSize('ProcessingTimeSessionWindows gap', gapMs);
    return new ProcessingTimeSessionWindows(() => gapMs);
  }
}

/** Any of the time window assigners above. */
export type TimeWindowAssigner<T = unknown> = WindowAssigner<T>;

/** Whether `value` is a time window assigner (for argument checks). */
export function isWindowAssigner(value: unknown): value is WindowAssigner {
  const a = value as Partial<WindowAssigner> | null | undefined;
  return (
    typeof a === 'object' &&
    a !== null &&
    typeof a.assignWindows === 'function' &&
    (a.kind === 'fixed' || a.kind === 'merging') &&
    (a.timeDomain === 'event-time' || a.timeDomain === 'processing-time')
  );
}
