// The target-checkpoint watcher's decisions, pure: statuses in, next state and actions out (no I/O, no clock).
import type { CheckpointStatus } from '../../checkpoint/index.ts';
import { StaleHandoverTargetError } from '../errors.ts';
import type { ObservedStatuses, TargetMove, TargetWatchAction, TargetWatchEvent, TargetWatchState, TargetWatchStep } from './types.ts';

/**
 * A watch of checkpoint `target` that times out at `deadline` (ms, same clock as the events).
 *
 * @example let state = initialTargetWatch(117, Date.now() + 60_000);
 */
export function initialTargetWatch(target: number, deadline: number): TargetWatchState {
  if (!Number.isSafeInteger(target) || target < 0) throw new RangeError(`handover target must be a non-negative integer, got ${String(target)}`);
  return { target, originalTarget: target, deadline, moves: [], phase: 'waiting', targetStatus: undefined };
}

/**
 * Advances a watch by one event. While waiting:
 * - target COMPLETED → phase `ready` (a `ready` action);
 * - target FAILED → the target moves to target+1, and on while that one cannot complete either
 *   (each move is recorded and emitted as a `target-moved` action);
 * - target not COMPLETED but a checkpoint with a higher id COMPLETED → the target can no longer
 *   complete, and moves on the same way. Flink-format directories delete failed checkpoints
 *   instead of writing `_FAILED`, so a failed target just disappears (UNKNOWN) and this is the
 *   only sign of it; in a baton directory it also covers a target whose marker was never written;
 * - a change of the target's status → a `target-status` action, so a caller can log it once;
 * - `at >= deadline` and still waiting after the above → phase `timed-out`. An observation made
 *   at the deadline that shows the target COMPLETED is ready, not timed out.
 * Once `ready` or `timed-out`, events change nothing.
 *
 * @example
 * ```ts
 * const step = stepTargetWatch(state, { type: 'observed', at: Date.now(), statuses: await listCheckpoints(storage) });
 * for (const a of step.actions) if (a.type === 'target-moved') log(a.move.reason);
 * ```
 */
export function stepTargetWatch(state: TargetWatchState, event: TargetWatchEvent): TargetWatchStep {
  if (state.phase !== 'waiting') return { state, actions: [] };
  if (event.type === 'tick') return timeoutIfDue(state, event.at, []);
  return observe(state, toStatusMap(event.statuses), event.at);
}

/**
 * Throws StaleHandoverTargetError when `target` is older than the newest COMPLETED checkpoint
 * (the job has moved past it). A target equal to the newest completed is fine: it is ready.
 *
 * @example checkTargetNotStale(117, await latestCompleted(storage));
 */
export function checkTargetNotStale(target: number, newestCompleted: number | undefined): void {
  if (newestCompleted !== undefined && target < newestCompleted) throw new StaleHandoverTargetError(target, newestCompleted);
}

/** The highest COMPLETED id among `statuses`, or undefined. @example newestCompletedOf([{ id: 3, status: 'COMPLETED' }]) // 3 */
export function newestCompletedOf(statuses: ObservedStatuses): number | undefined {
  let newest: number | undefined;
  for (const [id, status] of toStatusMap(statuses)) if (status === 'COMPLETED' && (newest === undefined || id > newest)) newest = id;
  return newest;
}

function observe(state: TargetWatchState, statuses: ReadonlyMap<number, CheckpointStatus>, at: number): TargetWatchStep {
  const newest = newestCompletedOf(statuses);
  const actions: TargetWatchAction[] = [];
  const moves: TargetMove[] = [...state.moves];
  let { target, targetStatus } = state;
  let status = statuses.get(target) ?? 'UNKNOWN';
  // Terminates: each move needs a FAILED entry or a completed id above the target, both finite.
  for (;;) {
    const reason = whyCannotComplete(target, status, newest);
    if (reason === undefined) break;
    const move: TargetMove = { from: target, to: target + 1, at, reason };
    moves.push(move);
    actions.push({ type: 'target-moved', move });
    target += 1;
    targetStatus = undefined;
    status = statuses.get(target) ?? 'UNKNOWN';
  }
  if (status === 'COMPLETED') {
    actions.push({ type: 'ready', checkpointId: target, at });
    return { state: { ...state, target, moves, phase: 'ready', targetStatus: status }, actions };
  }
  if (status !== targetStatus) actions.push({ type: 'target-status', checkpointId: target, status, at });
  return timeoutIfDue({ ...state, target, moves, targetStatus: status }, at, actions);
}

/** Why checkpoint `id` with `status` can never complete, or undefined if it still may (or has). */
function whyCannotComplete(id: number, status: CheckpointStatus, newestCompleted: number | undefined): string | undefined {
  if (status === 'COMPLETED') return undefined;
  if (status === 'FAILED') return `chk-${id} FAILED`;
  if (newestCompleted !== undefined && newestCompleted > id) return `chk-${id} ${status} but newer chk-${newestCompleted} COMPLETED`;
  return undefined;
}

function timeoutIfDue(state: TargetWatchState, at: number, actions: TargetWatchAction[]): TargetWatchStep {
  if (at < state.deadline) return { state, actions };
  actions.push({ type: 'timed-out', checkpointId: state.target, status: state.targetStatus, at });
  return { state: { ...state, phase: 'timed-out' }, actions };
}

function toStatusMap(statuses: ObservedStatuses): ReadonlyMap<number, CheckpointStatus> {
  return 'get' in statuses ? statuses : new Map(statuses.map((e) => [e.id, e.status]));
}
