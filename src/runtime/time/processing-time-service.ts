// Processing time as the runtime sees it: one clock to read and schedule on, injectable per subtask.

/**
 * The processing-time clock of a subtask: what `currentProcessingTime()` returns and what
 * processing-time timers wait for. The worker threads use {@link systemProcessingTime} (the wall
 * clock); an in-thread test run passes a {@link ManualProcessingTime} through `SubtaskHost`, so
 * time only moves when the test advances it and timers fire exactly then.
 *
 * Only processing-time *semantics* go through here. Wall-clock measurements (checkpoint barrier
 * stamps and alignment, back-pressure, metrics, a source's rate limit) stay on the real clock:
 * they describe how the runtime performed, not what a job computes.
 *
 * @example
 * ```ts
 * const clock: ProcessingTimeService = host.processingTime ?? systemProcessingTime;
 * const cancel = clock.schedule(clock.now() + 1_000, () => console.log('one second later'));
 * cancel(); // changed our mind
 * ```
 */
export interface ProcessingTimeService {
  /** Current processing time, epoch ms (or manual ms). */
  now(): number;
  /**
   * Calls `fire` once processing time reaches `atMs` (at once-ish if it already has). Never calls it
   * synchronously from inside `schedule`. Returns a cancel function (idempotent, harmless after firing).
   * The system clock may run `fire` a millisecond early by `now()`: callers re-read `now()` and
   * reschedule what is not due yet (KeyedTimers does).
   */
  schedule(atMs: number, fire: () => void): () => void;
}

/** setTimeout's longest delay (2^31 - 1 ms, ~24.8 days); a longer one would fire after 1 ms. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * The wall clock: `Date.now()` and `setTimeout`, as the runtime always used them (timers keep the
 * thread alive, as before; nothing is unref'd). A delay beyond setTimeout's limit waits in hops
 * instead of overflowing into a 1 ms timeout (which made a far timer re-arm every millisecond).
 */
export const systemProcessingTime: ProcessingTimeService = {
  // Date.now() called, not captured: tests that stub Date.now still see their stub.
  now: () => Date.now(),
  schedule(atMs, fire) {
    let timer: ReturnType<typeof setTimeout>;
    const arm = (): void => {
      const delay = Math.max(0, atMs - Date.now());
      timer = delay > MAX_TIMEOUT_MS ? setTimeout(arm, MAX_TIMEOUT_MS) : setTimeout(fire, delay);
    };
    arm();
    return () => clearTimeout(timer);
  },
};
