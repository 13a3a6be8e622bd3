// Types of the checkpoint coordinator's state machine: its settings, state, events and effects.

export interface CheckpointSettings {
  /** Time between the starts of two checkpoints (Infinity: only on request). */
  readonly intervalMs: number;
  /** A checkpoint not completed in this time is aborted. */
  readonly timeoutMs: number;
  /** Least time between the end of one checkpoint and the start of the next. */
  readonly minPauseMs: number;
  /** Consecutive failed checkpoints tolerated before the job fails. */
  readonly tolerableFailures: number;
  /** Completed checkpoints kept in storage. */
  readonly retain: number;
}

/** One task's acknowledgement of checkpoint n, as the coordinator keeps it until completion. */
export interface TaskAck<S = unknown> {
  readonly task: string;
  readonly snapshot: S;
}

export interface PendingCheckpoint<S = unknown> {
  readonly id: number;
  readonly triggeredAt: number;
  /** Subtasks that have not acknowledged yet. */
  readonly awaiting: ReadonlySet<string>;
  readonly acks: readonly TaskAck<S>[];
  /** A stop-with-checkpoint: the job ends once this one completes. */
  readonly stop?: StopMode;
  /**
   * Triggered after every source read all its input: it covers the job's final state and the
   * sinks' staged tails, and the job finishes once it completes (FLIP-147's final checkpoint).
   */
  readonly final?: boolean;
}

export type StopMode = 'suspend' | 'terminate' | 'after';

export interface CoordinatorState<S = unknown> {
  readonly nextId: number;
  readonly pending: PendingCheckpoint<S> | undefined;
  /** Being written to storage: all acks arrived, metadata not yet confirmed. */
  readonly finalizing: PendingCheckpoint<S> | undefined;
  readonly lastCompleted: number | undefined;
  readonly completed: readonly number[];
  readonly lastEndedAt: number;
  readonly lastTriggeredAt: number;
  readonly consecutiveFailures: number;
  /** A stop requested while another checkpoint was running: taken as soon as possible. */
  readonly stopRequested: StopMode | undefined;
  /** `stopAfterCheckpoint`: the checkpoint id after which the job ends. */
  readonly stopAfter: number | undefined;
  /** The stop-after checkpoint goes as soon as nothing else runs, not at the next interval (a handover successor is ready and waiting). */
  readonly stopAtOnce?: boolean;
  /**
   * The stop-after checkpoint that halted the coordinator: the job may still resume from it (a
   * handover rollback), continuing the numbering after it.
   */
  readonly stoppedAfter?: number;
  /** Every source read all its input: the next checkpoint is the final one, triggered at once. */
  readonly endOfInput: boolean;
  /** A checkpoint was asked for on demand (`JobHandle.checkpoint()`): the next one goes as soon as nothing runs, not at the interval. */
  readonly requested?: boolean;
  readonly halted: boolean;
}

export type CoordinatorEvent<S = unknown> =
  | { readonly type: 'tick'; readonly now: number }
  | { readonly type: 'ack'; readonly id: number; readonly task: string; readonly snapshot: S; readonly now: number }
  | { readonly type: 'decline'; readonly id: number; readonly task: string; readonly reason: string; readonly now: number }
  | { readonly type: 'metadata-written'; readonly id: number; readonly now: number }
  | { readonly type: 'metadata-failed'; readonly id: number; readonly reason: string; readonly now: number }
  | { readonly type: 'stop'; readonly mode: 'suspend' | 'terminate'; readonly now: number }
  /** Every source subtask read all its input (bounded input): the job finishes through a final checkpoint. */
  | { readonly type: 'end-of-input'; readonly now: number }
  /** From outside (a stop request in storage): end right after checkpoint `id`; `atOnce`: trigger it without waiting for the interval. */
  | { readonly type: 'stop-after'; readonly id: number; readonly now: number; readonly atOnce?: boolean }
  /** After a stop-after checkpoint completed, the job goes on instead of ending (a handover rolled back). */
  | { readonly type: 'resume'; readonly now: number }
  /** A checkpoint on demand: triggered in this step when nothing runs, else right after what runs. */
  | { readonly type: 'request'; readonly now: number }
  /** The stop request for `id` was withdrawn: unless already under way, the job goes on (or stops at `fallback`). */
  | { readonly type: 'stop-after-withdrawn'; readonly id: number; readonly fallback: number | undefined; readonly now: number };

export type CoordinatorEffect<S = unknown> =
  | { readonly type: 'trigger'; readonly id: number; readonly timestamp: number; readonly stop?: StopMode; readonly final?: boolean }
  | { readonly type: 'write-metadata'; readonly id: number; readonly triggeredAt: number; readonly acks: readonly TaskAck<S>[]; readonly stop?: StopMode; readonly final?: boolean }
  /** `final`: the job's final checkpoint completed: after committing, the subtasks finish. */
  | { readonly type: 'notify-complete'; readonly id: number; readonly final?: boolean }
  | { readonly type: 'abort'; readonly id: number; readonly reason: string }
  | { readonly type: 'discard'; readonly ids: readonly number[] }
  | { readonly type: 'job-stopping'; readonly id: number; readonly mode: StopMode }
  | { readonly type: 'fail-job'; readonly reason: string }
  /** A stop-after request came too late: checkpoint `id` was already triggered (its sources went past it). */
  | { readonly type: 'stop-after-rejected'; readonly id: number; readonly reason: string };

export interface Transition<S = unknown> {
  readonly state: CoordinatorState<S>;
  readonly effects: readonly CoordinatorEffect<S>[];
}
