// Bounds on every storage call: a deadline per attempt, a bounded number of attempts, backoff between them.
import { BatonError, JobConfigError, registerErrors } from '../../errors/index.ts';

/** How long one storage request may take, how often a transient failure is retried, and how long to wait between tries. */
export interface StorageTimeouts {
  /** Deadline of one attempt of one call, the whole answer (body) included. */
  readonly requestMs: number;
  /** Tries of a call that fails transiently (5xx, throttling, reset, timeout, short body); 1 = no retry. */
  readonly attempts: number;
  /** Wait before the first retry; doubled for each further one (with jitter). */
  readonly backoffMs: number;
}

/** Defaults: generous enough for a slow remote store, small enough that nothing waits for minutes. */
export const DEFAULT_STORAGE_TIMEOUTS: StorageTimeouts = { requestMs: 30_000, attempts: 4, backoffMs: 200 };

/** The longest single backoff, so a misconfigured `backoffMs` cannot stall a call for long. */
const MAX_BACKOFF_MS = 10_000;

/**
 * Fills `partial` with the defaults and checks it; errors name the option (`storageTimeouts.<field>`).
 *
 * @example resolveStorageTimeouts({ requestMs: 2_000 }) // { requestMs: 2000, attempts: 4, backoffMs: 200 }
 */
export function resolveStorageTimeouts(partial: Partial<StorageTimeouts> = {}): StorageTimeouts {
  const t = { ...DEFAULT_STORAGE_TIMEOUTS, ...partial };
  const check = (field: keyof StorageTimeouts, min: number) => {
    const v = t[field];
    if (!Number.isInteger(v) || v < min) throw new JobConfigError(`storageTimeouts.${field}`, `must be an integer >= ${min}, got ${String(v)}`);
  };
  check('requestMs', 1);
  check('attempts', 1);
  check('backoffMs', 0);
  return t;
}

/** Backoff before retry number `retry` (1-based): `backoffMs * 2^(retry-1)` with ±50 % jitter, capped. */
export function backoffDelayMs(timeouts: StorageTimeouts, retry: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, timeouts.backoffMs * 2 ** (retry - 1));
  return Math.round(base * (0.5 + random()));
}

/**
 * The most a call can take with these settings: every attempt at its deadline plus every backoff at
 * its longest. What "bounded" means for callers that wait on storage (end of input, stop).
 *
 * @example worstCaseMs({ requestMs: 1000, attempts: 3, backoffMs: 100 }) // 3000 + 150 + 300
 */
export function worstCaseMs(timeouts: StorageTimeouts): number {
  let total = timeouts.requestMs * timeouts.attempts;
  for (let retry = 1; retry < timeouts.attempts; retry++) total += Math.ceil(Math.min(MAX_BACKOFF_MS, timeouts.backoffMs * 2 ** (retry - 1)) * 1.5);
  return total;
}

/**
 * One attempt of a storage call passed its deadline. The storage retries or gives up with a
 * StorageTimeoutError whose `cause` is the last of these: callers see it only as that cause.
 *
 * @example if (e instanceof StorageTimeoutError && e.cause instanceof StorageAttemptTimeoutError) console.log(e.cause.ms);
 */
export class StorageAttemptTimeoutError extends BatonError {
  static override readonly code: string = 'BATON_ERR_STORAGE_ATTEMPT_TIMEOUT';
  override name = 'StorageAttemptTimeoutError';
  constructor(readonly ms: number) {
    super(`no complete answer within ${ms} ms`);
  }
}

/**
 * Runs `attempt` with a fresh AbortSignal that fires after `ms`; rejects with {@link StorageAttemptTimeoutError}
 * at the deadline even if `attempt` ignores the signal (a stalled body read, a hung fs call), so the
 * caller never waits longer than `ms`.
 *
 * @example const bytes = await withDeadline(2_000, (signal) => readFile(path, { signal }));
 */
export async function withDeadline<T>(ms: number, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const timeout = new StorageAttemptTimeoutError(ms);
      controller.abort(timeout);
      reject(timeout);
    }, ms);
  });
  const work = attempt(controller.signal);
  // Whatever the abandoned attempt does later must not surface as an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** What {@link retrying} reports about a call that gave up. */
export interface GaveUp {
  readonly error: unknown;
  readonly attempts: number;
  /** The last failure was a deadline. */
  readonly timedOut: boolean;
}

/**
 * The wait before reading again after a torn read: a body shorter than the answer announced, as
 * from an object read while it is being written (s3rver and other stores whose writes are not
 * atomic) or a connection cut mid-body. Nothing is overloaded, so there is nothing to back off
 * from, and the object is usually whole a moment later: the first such retry of a call waits this
 * long instead of `backoffMs` (200 ms by default), the rest follow the usual backoff. A handover's
 * successor probing the `_metadata` its predecessor is writing lost that backoff inside the downtime.
 */
export const TORN_READ_RETRY_MS = 10;

/** What {@link retrying} may be told besides the defaults. */
export interface RetryingOptions {
  /** A failure that is a torn read (see {@link TORN_READ_RETRY_MS}); none by default. */
  readonly isTornRead?: (error: unknown) => boolean;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Runs `attempt` under a deadline of `timeouts.requestMs`, up to `timeouts.attempts` times while
 * `isTransient` says the failure may go away, with exponential backoff between tries (the first
 * retry after a torn read comes at once, see {@link TORN_READ_RETRY_MS}). Only for idempotent
 * operations (a retried put writes the same whole object again). On giving up, throws what
 * `giveUp` makes of the last failure.
 *
 * @example
 * await retrying(timeouts, (signal) => client.send(cmd, { abortSignal: signal }), isTransientS3Error, (g) => toStorageError(g));
 */
export async function retrying<T>(
  timeouts: StorageTimeouts,
  attempt: (signal: AbortSignal) => Promise<T>,
  isTransient: (error: unknown) => boolean,
  giveUp: (failure: GaveUp) => Error,
  options: RetryingOptions = {},
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  let quickRetried = false;
  for (let tried = 1; ; tried++) {
    try {
      return await withDeadline(timeouts.requestMs, attempt);
    } catch (error) {
      const timedOut = error instanceof StorageAttemptTimeoutError;
      if (tried >= timeouts.attempts || !(timedOut || isTransient(error))) throw giveUp({ error, attempts: tried, timedOut });
      if (!quickRetried && options.isTornRead?.(error) === true) {
        quickRetried = true;
        await sleep(Math.min(TORN_READ_RETRY_MS, timeouts.backoffMs));
        continue;
      }
      // After a quick retry the usual schedule goes on from where it stood: the call's bound is unchanged.
      await sleep(backoffDelayMs(timeouts, quickRetried ? tried - 1 : tried));
    }
  }
}

registerErrors(StorageAttemptTimeoutError);
