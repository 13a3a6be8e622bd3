// Types of the target-checkpoint watcher: the pure state machine's state, events and actions, and the I/O shell's options and result.
import type { CheckpointEntry, CheckpointStatus } from '../../checkpoint/index.ts';

export type TargetWatchPhase = 'waiting' | 'ready' | 'timed-out';

/** The target moved on because checkpoint `from` can no longer complete. */
export interface TargetMove {
  readonly from: number;
  readonly to: number;
  /** Time of the observation that moved it (ms). */
  readonly at: number;
  /** For people, e.g. `chk-117 FAILED`. */
  readonly reason: string;
}

export interface TargetWatchState {
  /** The checkpoint waited for now (the original target, or later after moves). */
  readonly target: number;
  /** The checkpoint first asked for. */
  readonly originalTarget: number;
  /** Time (ms) at or after which a still-waiting watch times out. */
  readonly deadline: number;
  /** Oldest first. */
  readonly moves: readonly TargetMove[];
  readonly phase: TargetWatchPhase;
  /** Last observed status of the current target; undefined before its first observation. */
  readonly targetStatus: CheckpointStatus | undefined;
}

/** Statuses seen in one listing of the job directory; a checkpoint left out is UNKNOWN. */
export type ObservedStatuses = ReadonlyMap<number, CheckpointStatus> | readonly CheckpointEntry[];

export type TargetWatchEvent =
  /** One poll of the job directory. */
  | { readonly type: 'observed'; readonly at: number; readonly statuses: ObservedStatuses }
  /** Time passed with nothing observed: only the deadline is checked. */
  | { readonly type: 'tick'; readonly at: number };

export type TargetWatchAction =
  | { readonly type: 'target-moved'; readonly move: TargetMove }
  /** The current target's status changed (never COMPLETED: that is `ready`). */
  | { readonly type: 'target-status'; readonly checkpointId: number; readonly status: CheckpointStatus; readonly at: number }
  | { readonly type: 'ready'; readonly checkpointId: number; readonly at: number }
  | { readonly type: 'timed-out'; readonly checkpointId: number; readonly status: CheckpointStatus | undefined; readonly at: number };

export interface TargetWatchStep {
  readonly state: TargetWatchState;
  readonly actions: readonly TargetWatchAction[];
}

/** Which system wrote a `_metadata` file, from its first 4 bytes. */
export type CheckpointFormat = 'baton' | 'flink' | 'unknown';

/** What the watcher saw in one poll, passed to `onObservation`. */
export interface TargetWatchObservation {
  readonly at: number;
  /** Every checkpoint of the job directory, oldest first. */
  readonly checkpoints: readonly CheckpointEntry[];
  /** State after this observation. */
  readonly state: TargetWatchState;
  /** What this observation changed (status changes, moves, ready, timed-out). */
  readonly actions: readonly TargetWatchAction[];
}

export interface WatchForCheckpointOptions {
  /** The checkpoint to wait for. */
  readonly target: number;
  /** Give up this long after the start (the last poll happens at the deadline). */
  readonly timeoutMs: number;
  /** Time between polls (one listing each). Default 200. */
  readonly pollMs?: number;
  /** Do not fail when the target is already older than the newest completed checkpoint. Default false. */
  readonly allowStaleTarget?: boolean;
  readonly onObservation?: (observation: TargetWatchObservation) => void;
  /** Aborting rejects the watch with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Clock in ms; default Date.now. */
  readonly now?: () => number;
  /** Waits `ms`; default an abortable timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface WatchForCheckpointResult {
  readonly outcome: 'ready' | 'timed-out';
  /** The checkpoint that completed, or the one still waited for at the timeout. */
  readonly checkpointId: number;
  /** Last observed status of `checkpointId` (COMPLETED when ready). */
  readonly status: CheckpointStatus;
  readonly moves: readonly TargetMove[];
  /** Format of the completed checkpoint's `_metadata`; 'unknown' on timeout. */
  readonly format: CheckpointFormat;
  readonly waitedMs: number;
}
