// The I/O shell of the target-checkpoint watcher: polls a job directory and feeds the pure state machine.
import { setTimeout as delay } from 'node:timers/promises';
import { listCheckpoints, metadataKey } from '../../checkpoint/index.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/index.ts';
import { JobConfigError } from '../../errors/index.ts';
import { detectCheckpointFormat } from './checkpoint-format.ts';
import { checkTargetNotStale, initialTargetWatch, newestCompletedOf, stepTargetWatch } from './target-watch.ts';
import type { TargetWatchState, WatchForCheckpointOptions, WatchForCheckpointResult } from './types.ts';

/** Default time between two listings of the job directory. */
export const DEFAULT_WATCH_POLL_MS = 200;

/**
 * Waits until checkpoint `target` (or the one it moved to, see {@link stepTargetWatch}) is
 * COMPLETED in `storage`, or until `timeoutMs` passed. Each poll lists the job directory once;
 * the last poll happens at the deadline. Resolves with the outcome and, when ready, the format
 * of the checkpoint's `_metadata` (baton or Flink).
 *
 * Rejects with StaleHandoverTargetError when the first poll finds the target (after any moves)
 * older than the newest completed checkpoint, unless `allowStaleTarget`; with the signal's reason
 * when aborted; with the storage's error when a listing or the metadata read fails.
 *
 * @example
 * ```ts
 * const r = await watchForCheckpoint(openStorage('s3://ckpt/orders'), { target: 117, timeoutMs: 60_000 });
 * if (r.outcome === 'ready') await restoreStage2(r.checkpointId);
 * ```
 */
export async function watchForCheckpoint(storage: CheckpointStorage, options: WatchForCheckpointOptions): Promise<WatchForCheckpointResult> {
  const { target, timeoutMs, pollMs = DEFAULT_WATCH_POLL_MS, allowStaleTarget = false, onObservation, signal, now = Date.now, sleep = abortableSleep } = options;
  if (!Number.isSafeInteger(target) || target < 0) throw new JobConfigError('target', `must be a non-negative integer checkpoint id, got ${String(target)}`);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new JobConfigError('timeoutMs', `must be a finite number >= 0, got ${String(timeoutMs)}`);
  if (!Number.isFinite(pollMs) || pollMs <= 0) throw new JobConfigError('pollMs', `must be a finite number > 0, got ${String(pollMs)}`);
  const startedAt = now();
  let state = initialTargetWatch(target, startedAt + timeoutMs);
  for (let first = true; ; first = false) {
    signal?.throwIfAborted();
    const checkpoints = await listCheckpoints(storage);
    const at = now();
    const step = stepTargetWatch(state, { type: 'observed', at, statuses: checkpoints });
    state = step.state;
    onObservation?.({ at, checkpoints, state, actions: step.actions });
    // After the first step, not before: a target that FAILED before the watch began moves on as
    // DESIGN.md asks, and only a ready target with a newer completed one is in the past.
    if (first && !allowStaleTarget) checkTargetNotStale(state.target, newestCompletedOf(checkpoints));
    if (state.phase !== 'waiting') return finish(storage, state, at - startedAt);
    await sleep(Math.max(0, Math.min(pollMs, state.deadline - now())), signal);
  }
}

async function finish(storage: CheckpointStorage, state: TargetWatchState, waitedMs: number): Promise<WatchForCheckpointResult> {
  const ready = state.phase === 'ready';
  // A storage error here is thrown, not reported as 'unknown': the checkpoint was just seen COMPLETED.
  const format = ready ? detectCheckpointFormat(await storage.get(metadataKey(state.target))) : 'unknown';
  return {
    outcome: ready ? 'ready' : 'timed-out',
    checkpointId: state.target,
    status: state.targetStatus ?? 'UNKNOWN',
    moves: state.moves,
    format,
    waitedMs,
  };
}

async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    // Reject with the caller's reason, as signal.throwIfAborted() does, not Node's AbortError wrapper.
    throw signal?.aborted ? signal.reason : error;
  }
}
