// A processing-time clock that moves only when told to: deterministic timers for in-thread test runs.
import { InvalidProcessingTimeError, ProcessingTimeBackwardsError } from '../errors.ts';
import type { ProcessingTimeService } from './processing-time-service.ts';

interface Scheduled {
  readonly atMs: number;
  /** Scheduling order: breaks ties between callbacks due at the same ms. */
  readonly seq: number;
  readonly fire: () => void;
}

/**
 * Processing time under a test's control, like Flink's `setProcessingTime` or Kafka Streams'
 * `advanceWallClockTime`: `now()` stays put until {@link advanceTo} or {@link advanceBy} moves it,
 * and those run every callback that fell due on the way, synchronously, in timestamp order
 * (callbacks due at the same ms in the order they were scheduled).
 *
 * While a callback runs, `now()` is its own due time (never less than before), not the target:
 * time passes through each timer as it would on a real clock, so a timer that reschedules itself
 * at `now() + period` fires once per period on the way, and timers of different operators
 * interleave in timestamp order. Callbacks scheduled while advancing run in the same call if they
 * are due by the target. A callback that throws stops the advance there (`now()` is its due time,
 * the later callbacks stay queued) and the error propagates to the caller.
 *
 * @example
 * ```ts
 * const clock = new ManualProcessingTime(1_000);
 * clock.schedule(1_500, () => console.log('fired at', clock.now())); // fired at 1500
 * clock.advanceTo(1_499); // nothing due yet
 * clock.advanceBy(1);     // runs the callback
 * clock.advanceTo(1_000); // throws ProcessingTimeBackwardsError
 * ```
 */
export class ManualProcessingTime implements ProcessingTimeService {
  #now: number;
  #seq = 0;
  /** Pending callbacks sorted by (atMs, seq). A sorted array: a subtask keeps about one callback per timer operator. */
  readonly #queue: Scheduled[] = [];

  /** `startMs`: the processing time before the first advance (default 0). */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new InvalidProcessingTimeError('start', startMs);
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /**
   * Queues `fire` for when time reaches `atMs`; one due already (`atMs <= now()`) runs at the next
   * advance (`advanceBy(0)` runs it without moving time), never synchronously from here.
   */
  schedule(atMs: number, fire: () => void): () => void {
    if (Number.isNaN(atMs)) throw new InvalidProcessingTimeError('timer', atMs);
    const entry: Scheduled = { atMs, seq: this.#seq++, fire };
    const queue = this.#queue;
    // After every entry due at or before atMs: equal times keep their scheduling order.
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (queue[mid].atMs <= atMs) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, entry);
    return () => {
      const i = this.#queue.indexOf(entry);
      if (i >= 0) this.#queue.splice(i, 1);
    };
  }

  /**
   * Moves processing time to `ms`, running on the way every callback due at or before it (see the
   * class comment for the order and for `now()` meanwhile). Returns how many callbacks ran.
   * Throws ProcessingTimeBackwardsError if `ms` is before `now()`, InvalidProcessingTimeError if it is not finite.
   */
  advanceTo(ms: number): number {
    if (!Number.isFinite(ms)) throw new InvalidProcessingTimeError('target', ms);
    if (ms < this.#now) throw new ProcessingTimeBackwardsError(this.#now, ms);
    let fired = 0;
    const queue = this.#queue;
    // Re-read the head each time: a callback may schedule or cancel others (or advance further itself).
    while (queue.length > 0 && queue[0].atMs <= ms) {
      const next = queue.shift()!;
      if (next.atMs > this.#now) this.#now = next.atMs;
      fired++;
      next.fire();
    }
    // A callback that advanced the clock itself past `ms` is not undone.
    if (ms > this.#now) this.#now = ms;
    return fired;
  }

  /** {@link advanceTo} `now() + deltaMs`; a negative delta throws ProcessingTimeBackwardsError. */
  advanceBy(deltaMs: number): number {
    return this.advanceTo(this.#now + deltaMs);
  }

  /** Callbacks scheduled and neither run nor canceled. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Due time of the earliest pending callback; undefined when none is pending. */
  get nextAt(): number | undefined {
    return this.#queue[0]?.atMs;
  }
}
