// Reads a `_metadata` that may still be being written: a short read is read again (bounded backoff); only damage that persists is corruption.
import { setTimeout as sleep } from 'node:timers/promises';
import { CorruptCheckpointError } from '../errors.ts';
import type { CheckpointStorage } from '../storage/types.ts';
import type { CheckpointMetadata } from '../types.ts';
import { readMetadata } from './checkpoint-status.ts';

/** How often, and how patiently, a short read is retried. */
export interface SettleOptions {
  /** Reads in all, the first included. Default 6. */
  readonly attempts?: number;
  /** Wait before the second read (ms); doubles each time. Default 10 (so at most 310 ms in all). */
  readonly firstDelayMs?: number;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Whether `error` is what a reader gets from an object still being written: fewer bytes than the
 * header announces (`truncated`, 0 bytes included). Some stores (s3rver, and any that stream a
 * PUT into place) serve such a prefix while the writer is still at work; baton's own writes are
 * atomic, so a prefix that stays is damage. Other failures (checksum, magic, body, hostile
 * values) are never a prefix of a good file: they are damage at once.
 */
export function isShortRead(error: unknown): error is CorruptCheckpointError {
  return error instanceof CorruptCheckpointError && error.reason === 'truncated';
}

/**
 * Runs `read` until it does not fail with a short read ({@link isShortRead}), at most `attempts`
 * times with a doubling wait between: what is still short after that is thrown (persisting
 * damage). Any other error is thrown at once.
 *
 * @example const meta = await settle(() => readMetadata(storage, 73));
 */
export async function settle<T>(read: () => Promise<T>, options: SettleOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 6);
  const wait = options.sleep ?? sleep;
  let delay = options.firstDelayMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!isShortRead(error) || attempt >= attempts) throw error;
    }
    await wait(delay);
    delay *= 2;
  }
}

/**
 * {@link readMetadata} for a reader racing the writer (a handover's follower, probing a
 * checkpoint the running job may be completing right now): a `_metadata` that reads short is
 * read again with backoff, and is a CorruptCheckpointError only if it stays short. Missing is a
 * CheckpointNotFoundError, as with readMetadata.
 *
 * @example const target = await readMetadataSettled(jobStorage, 73);
 */
export function readMetadataSettled(storage: CheckpointStorage, n: number, options: SettleOptions = {}): Promise<CheckpointMetadata> {
  return settle(() => readMetadata(storage, n), options);
}
