// A task's part of a checkpoint: its chain's snapshot handed to the host, the barrier sent on; which checkpoint an ended task still owes.
import type { InFlightRecording } from './in-flight-recording.ts';
import type { OperatorChain } from './operator-chain.ts';
import type { CheckpointTrigger, Subtask, SubtaskHost } from './subtask.ts';
import type { TaskOutput } from './task-output.ts';

export interface CheckpointOptions {
  /** A source's part: where its splits are. */
  readonly sourceState?: unknown;
  /** Unaligned: the barrier overtakes what is not sent yet, and `recording` records the input it overtook. */
  readonly unaligned?: boolean;
  readonly recording?: InFlightRecording;
  readonly alignmentMs?: number;
  /** When the checkpoint was triggered (epoch ms), carried downstream by the barrier. */
  readonly barrierAt?: number;
  /** When the task last processed a record before the barrier (epoch ms; 0: none). */
  readonly lastRecordAt: number;
}

/**
 * Checkpoints as one task takes them. The snapshot is synchronous: every operator's state (the
 * host snapshots keyed state at once, before any further record), then the barrier downstream.
 *
 * @example
 * ```ts
 * const snapshots = new TaskSnapshots(task, host, chain, output);
 * snapshots.take(3, { barrierAt: trigger.at, lastRecordAt });
 * ```
 */
export class TaskSnapshots {
  /** Newest checkpoint taken here (aligned, unaligned, by a source's trigger or once ended). */
  private lastTaken = 0;
  /** Newest checkpoint aborted. */
  private lastAborted = 0;
  /** Newest checkpoint the coordinator triggered: once ended, the task owes it its final state if not taken. */
  private lastTriggered: CheckpointTrigger | undefined;

  constructor(
    private readonly task: Subtask,
    private readonly host: SubtaskHost,
    private readonly chain: OperatorChain,
    private readonly output: TaskOutput,
  ) {}

  triggered(trigger: CheckpointTrigger): void {
    if (!this.lastTriggered || trigger.id > this.lastTriggered.id) this.lastTriggered = trigger;
  }

  aborted(checkpointId: number): void {
    if (checkpointId > this.lastAborted) this.lastAborted = checkpointId;
  }

  /**
   * What an ended task owes: the newest checkpoint triggered and neither taken nor aborted gets its
   * final state. That is consistent with its producers' parts: every channel into it ended, so each
   * producer ended too and gives (or gave) its own final state, and everything it sent was
   * processed; everything this task sent is already in its output channels.
   */
  owed(): CheckpointTrigger | undefined {
    const owed = this.lastTriggered;
    return owed && owed.id > this.lastTaken && owed.id > this.lastAborted ? owed : undefined;
  }

  /** Snapshot of every operator of the chain, then the barrier goes downstream. */
  take(checkpointId: number, options: CheckpointOptions): void {
    if (checkpointId > this.lastTaken) this.lastTaken = checkpointId;
    const operators = this.chain.snapshot(checkpointId, options.sourceState);
    const alignment = { unaligned: options.unaligned === true, alignmentMs: options.alignmentMs ?? 0, lastRecordAt: options.lastRecordAt };
    if (options.unaligned) {
      // The barrier overtakes what this task has not sent yet: that becomes its output state.
      const output = this.output.priorityBarrier(checkpointId, options.barrierAt);
      options.recording?.setOutput(output);
      const channelState = options.recording?.done ?? Promise.resolve({ input: [], output });
      this.host.onSnapshot?.(this.task, checkpointId, { operators, channelState, ...alignment });
      return;
    }
    this.host.onSnapshot?.(this.task, checkpointId, { operators, ...alignment });
    this.output.barrier(checkpointId, options.barrierAt);
  }
}
