// A running subtask as the rest of the runtime sees it: its host, its states, what it contributes to a checkpoint.
import type { RecordedBatch } from '../channels/input-gate.ts';
import type { KeyedStateBackend, KeyGroupRange } from '../../state/types.ts';
import type { ProcessingTimeService } from '../time/processing-time-service.ts';
import type { OperatorMetrics, RuntimeTuning } from '../types.ts';
import type { ChannelStateData } from './in-flight-recording.ts';
import type { InFlightLog } from './in-flight-log.ts';
import type { StreamTask } from './stream-task.ts';

export type { ChannelStateData } from './in-flight-recording.ts';

/**
 * One running subtask: a SourceTask (a source's readers at the head of the chain) or an InputTask
 * (fed by its input gate), both over the one loop of {@link StreamTask} (source-task.ts, input-task.ts).
 */
export type Subtask = StreamTask;

/**
 * `ended`: the input ended and every operator flushed (windows fired, output sent), but nothing is
 * committed yet: the subtask holds its final state and answers every checkpoint with it until the
 * job's final checkpoint completes, then finishes (FLIP-147). Only with checkpointing on.
 */
export type SubtaskState = 'created' | 'open' | 'running' | 'finishing' | 'ended' | 'finished' | 'failed' | 'canceled';

export interface SubtaskResult {
  readonly taskId: number;
  readonly subtaskIndex: number;
  readonly operators: ReadonlyArray<{ uid: string } & OperatorMetrics>;
  readonly sinkResults: ReadonlyArray<{ uid: string; value: unknown }>;
}

export interface SubtaskHost {
  readonly workerIndex: number;
  /** The job's id (OperatorContext.jobId). */
  readonly jobId?: string;
  readonly maxParallelism: number;
  readonly tuning: RuntimeTuning;
  /** A failure anywhere in the subtask fails the whole job. */
  onFailure(error: unknown): void;
  /** Keyed state for one operator subtask (heap or LMDB, the host decides). */
  createKeyedState?(uid: string, subtaskIndex: number, range: KeyGroupRange): KeyedStateBackend;
  /**
   * Checkpoint n reached this subtask: `parts` is its state, taken synchronously; the host
   * snapshots keyed state at once (before any further record) and uploads asynchronously.
   */
  onSnapshot?(subtask: Subtask, checkpointId: number, parts: SubtaskSnapshotParts): void;
  /** A source subtask read all of its input. */
  onInputEnded?(subtask: Subtask): void;
  /**
   * Checkpointing is on: at the end of input the subtask waits in `ended` for the job's final
   * checkpoint ({@link StreamTask.finishAfterFinalCheckpoint}) instead of finishing (and committing) at once.
   */
  readonly awaitFinalCheckpoint?: boolean;
  /** The first record this subtask processed (a handover's downtime ends at the job's first). */
  onFirstRecord?(at: number): void;
  /** Aligned (default) or unaligned barriers. */
  readonly checkpointMode?: 'aligned' | 'unaligned';
  /** Aligned mode: an alignment lasting longer than this switches the task to unaligned for that checkpoint. */
  readonly alignedTimeoutMs?: number;
  /** Continuous spilling: the log that persists this subtask's input as it arrives (undefined: spill at the barrier). */
  createInFlightLog?(subtask: Subtask): InFlightLog | undefined;
  /**
   * The processing-time clock of the operators' timers and `currentProcessingTime()` (default: the
   * wall clock). An in-thread test run passes a ManualProcessingTime, so timers fire when it advances.
   */
  readonly processingTime?: ProcessingTimeService;
  /**
   * Longest stretch (ms) a subtask processes input before it lets the event loop in (default 10).
   * An in-thread test run passes Infinity: every drain runs to its end, so the interleaving of
   * subtasks depends on the steps only, never on how busy the machine is (deterministic output).
   */
  readonly drainSliceMs?: number;
}

/** What one subtask contributes to a checkpoint, before upload. */
export interface SubtaskSnapshotParts {
  readonly operators: ReadonlyArray<{ readonly uid: string; readonly state: unknown; readonly keyedState?: KeyedStateBackend }>;
  /** Unaligned checkpoints: in-flight data, complete once barrier n arrived on every input channel. */
  readonly channelState?: Promise<ChannelStateData>;
  /** Whether this subtask took the checkpoint unaligned, and how long it aligned barriers first. */
  readonly unaligned?: boolean;
  readonly alignmentMs?: number;
  /** When this subtask last processed a record before the barrier (epoch ms; 0: none). */
  readonly lastRecordAt?: number;
}

/** Channel state as a restore replays it: copies of every batch, in order. */
export interface RestoredChannelState {
  readonly input: ReadonlyArray<{ readonly channel: number; readonly batch: RecordedBatch }>;
  readonly output: ReadonlyArray<readonly RecordedBatch[]>;
}

/** A checkpoint trigger reaching a source, and what the source does after it. */
export interface CheckpointTrigger {
  readonly id: number;
  /** When the coordinator triggered it (epoch ms); barriers carry it downstream for alignment timeouts. */
  readonly at?: number;
  /** `after`/`suspend`: stop after the barrier without draining; `terminate`: drain (max watermark) first. */
  readonly stop?: 'after' | 'suspend' | 'terminate';
}
