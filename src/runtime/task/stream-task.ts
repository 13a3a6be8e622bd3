// What every subtask shares: its one loop (the default action: read the source or drain the input), lifecycle, task actions and checkpoint snapshot.
import { type ProcessingTimeService, systemProcessingTime } from '../time/processing-time-service.ts';
import type { KeyedStateBackend } from '../../state/types.ts';
import type { GraphNode, OperatorMetrics, Output, PlannedTask, SourceSplit } from '../types.ts';
import { BatonInternalError } from '../errors.ts';
import { OperatorChain } from './operator-chain.ts';
import type { EdgeWriters } from './record-writer-output.ts';
import type { CheckpointTrigger, RestoredChannelState, SubtaskHost, SubtaskResult, SubtaskState } from './subtask.ts';
import { type ActionPhase, TaskActions } from './task-actions.ts';
import { TaskOutput } from './task-output.ts';
import { type CheckpointOptions, TaskSnapshots } from './task-snapshots.ts';

/** The default action has nothing more to do: the task's input ended. */
export const END_OF_INPUT: unique symbol = Symbol('end of input');

/** What one pass of the default action asks of the loop: go on (undefined), wait for the promise, or end. */
export type LoopStep = undefined | Promise<unknown> | typeof END_OF_INPUT;

/** What wakes a waiting loop (bits; a wait names the ones it waits for). */
export const Wake = { INPUT: 1, OUTPUT: 2, HOLD: 4, TRIGGER: 8, RESUME: 16, ALL: 31 } as const;

/**
 * The loop of one subtask, as Flink's mailbox loop under SourceStreamTask and OneInputStreamTask:
 * the default action ({@link processInput}) runs pass after pass and tells the loop when it must
 * wait (for input, output credit, an operator's hold, a reader) or that its input ended. Task
 * actions (timers, asynchronous completions, checkpoint triggers and aborts) run between passes,
 * from the event loop, never inside a record.
 *
 * Lifecycle: created → open → running → finishing → (ended →) finished, or failed / canceled.
 *
 * @example
 * ```ts
 * const task: StreamTask = planned.isSource ? new SourceTask(planned, i, nodes, host) : new InputTask(planned, i, nodes, host, inputs);
 * await task.open(edges); task.start(); await task.done;
 * ```
 */
export abstract class StreamTask {
  state: SubtaskState = 'created';
  /** Settles when the subtask has finished, failed or been canceled. */
  readonly done: Promise<SubtaskResult | undefined>;
  readonly metrics: OperatorMetrics[];
  protected readonly chain: OperatorChain;
  protected readonly output = new TaskOutput();
  /** An operator holds the input (asyncMap at capacity): read per record, so a plain field. */
  protected held = false;
  /** A pass of the loop is due (woken, or yielded to the event loop): it flushes what task actions emit meanwhile. */
  protected loopDue = false;
  private readonly actions: TaskActions;
  private resolveDone!: (result: SubtaskResult | undefined) => void;
  private waiter: { readonly on: number; readonly loop: boolean; readonly resolve: () => void } | undefined;
  /** Operators (node ids) holding the input: no record is taken until none does. */
  private readonly inputHolds = new Set<number>();
  /** An operator's endInput is under way asynchronously (asyncMap waits for its requests): timers and task actions still run. */
  private endingInput = false;
  /** Epoch ms of the last batch of records processed (0: none yet). */
  private lastRecordAt = 0;
  /** Resumed after a stop-after checkpoint: the next record processed is reported as a first record. */
  private reportNextRecord = false;
  private readonly snapshots: TaskSnapshots;

  constructor(
    readonly task: PlannedTask,
    readonly subtaskIndex: number,
    nodes: readonly GraphNode[],
    protected readonly host: SubtaskHost,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    // Before the operators are created: their contexts use them.
    const clock: ProcessingTimeService = host.processingTime ?? systemProcessingTime;
    this.actions = new TaskActions(clock, {
      actionPhase: () => this.actionPhase(),
      fail: (error) => this.fail(error),
      // What a timer emitted goes now, unless queued input follows (the loop's next pass sends it along).
      flushAfterTimer: () => {
        if (!this.inputQueued() || this.held) this.output.flush();
      },
      flushAfterActions: () => {
        if (!this.loopDue && this.actionPhase() === 'now') this.output.flush();
      },
    });
    this.chain = new OperatorChain(task, subtaskIndex, nodes, host, {
      currentProcessingTime: () => clock.now(),
      scheduleProcessingTime: (atMs, fire) => this.actions.schedule(atMs, fire),
      fail: (error) => this.fail(error),
      pauseInput: (operatorId) => this.holdInput(operatorId),
      resumeInput: (operatorId) => this.releaseInput(operatorId),
      runOnTask: (action) => this.actions.run(action),
    });
    this.metrics = this.chain.metrics;
    this.snapshots = new TaskSnapshots(this, host, this.chain, this.output);
  }

  /** One pass of the default action: processes input until it has to wait, or its time slice ends. */
  protected abstract processInput(): LoopStep;

  /** Nothing to do until something arrives (see {@link isQuiet}), as far as the input goes. */
  protected abstract inputQuiet(): boolean;

  /** The loop ended (input ended, or the task stopped): readers close. */
  protected closeInput(): void {}

  /** The default action returned END_OF_INPUT while running. */
  protected async endOfInput(): Promise<void> {
    await this.finishInput();
  }

  /** Records are queued at the input: the loop's next pass flushes what a timer emitted with its own output. */
  protected inputQueued(): boolean {
    return false;
  }

  /** The chain is opened with this entry: where a source emits. */
  protected opened(_entry: Output): void {}

  /** Checkpoint n reached a running task from the coordinator (only a source acts on it). */
  protected onTrigger(_trigger: CheckpointTrigger): void {}

  /** Checkpoint n was aborted / stop-after checkpoint n completed and the job goes on. */
  protected onAbort(_checkpointId: number): void {}
  protected onResume(_checkpointId: number): void {}

  /** The task stops: whatever its input waits on is let go. */
  protected onRelease(): void {}

  /** Ended: a source's part of the checkpoint it owes (its triggers are answered by it). */
  protected finalSourceState(): unknown {
    return undefined;
  }

  /** Restore: the input channel state goes ahead of any new input. */
  protected restoreInput(_input: RestoredChannelState['input']): void {}

  /** Wires the chain's tail to its channel writers and opens every operator. */
  async open(edges: readonly EdgeWriters[]): Promise<void> {
    const chain = this.chain;
    const outputs = this.output.connect(edges, {
      maxParallelism: this.host.maxParallelism,
      subtaskIndex: this.subtaskIndex,
      tailUid: chain.tailUid,
      tailMetrics: chain.tailMetrics,
      uidOf: (nodeId) => chain.uidOf(nodeId),
    });
    this.opened(await chain.open(outputs));
    this.state = 'open';
  }

  start(): void {
    if (this.state !== 'open') return;
    this.state = 'running';
    this.actions.started();
    this.startLoop();
  }

  /** A source's loop starts at once; an input task's a microtask later (see InputTask). */
  protected startLoop(): void {
    this.runLoop().catch((error) => this.fail(error));
  }

  protected async runLoop(): Promise<void> {
    try {
      for (;;) {
        if (this.state !== 'running') return;
        this.loopDue = false;
        const step = this.processInput();
        if (step === undefined) continue;
        if (step === END_OF_INPUT) break;
        await step;
      }
    } finally {
      this.closeInput();
    }
    if (this.state === 'running') await this.endOfInput();
  }

  /** Suspends the loop (or finishInput) until one of `on` (Wake bits) happens or the task stops. */
  protected waitFor(on: number, loop = true): Promise<void> {
    // One waiter at a time; an earlier one (none is expected) goes on rather than hang.
    this.wakeUp(Wake.ALL);
    return new Promise((resolve) => {
      this.waiter = { on, loop, resolve };
    });
  }

  protected wakeUp(reason: number): void {
    const waiter = this.waiter;
    if (waiter === undefined || (waiter.on & reason) === 0) return;
    this.waiter = undefined;
    if (waiter.loop) this.loopDue = true;
    waiter.resolve();
  }

  /** Called by a writer whose backlog drained. */
  onWriterAvailable(): void {
    if (!this.output.available()) return;
    this.output.markUnblocked();
    this.wakeUp(Wake.OUTPUT);
  }

  /** Ms this subtask could not send (its output writers had no credit) since it started. */
  backpressuredTime(): number {
    return this.output.backpressuredTime();
  }

  /**
   * Nothing to do until something arrives: no input queued or half processed, and a source waits
   * for its reader. Workers in one thread (baton/testing) settle on this between test steps.
   * `awaitAsync` false: requests in flight (asyncMap) may wait for what the caller does next (processing time).
   */
  isQuiet(awaitAsync = true): boolean {
    if (awaitAsync && !this.chain.isIdle()) return false;
    // Held by an operator at capacity: nothing moves until one of its requests completes.
    if (this.held && this.state === 'running') return true;
    return this.inputQuiet();
  }

  cancel(): void {
    if (this.state === 'finished' || this.state === 'failed' || this.state === 'canceled') return;
    this.state = 'canceled';
    this.release();
  }

  fail(error: unknown): void {
    if (this.state === 'failed' || this.state === 'canceled' || this.state === 'finished') return;
    this.state = 'failed';
    this.host.onFailure(error);
  }

  /** Closes operators without committing (sinks abort) after a failure or cancel. */
  async abort(): Promise<void> {
    this.release();
    await this.chain.closeAfterFailure();
    this.chain.disposeState();
    this.resolveDone(undefined);
  }

  /** Ends the subtask for a suspend or stop: no draining, sinks keep what checkpoints staged. */
  async suspend(): Promise<void> {
    if (this.state === 'finished' || this.state === 'failed' || this.state === 'canceled') return;
    this.state = 'finishing';
    this.release();
    await this.chain.suspend();
    this.state = 'finished';
    this.chain.disposeState();
    this.resolveDone(this.chain.result());
  }

  private release(): void {
    this.output.markUnblocked();
    this.actions.cancelTimers();
    this.onRelease();
    this.wakeUp(Wake.ALL);
  }

  /**
   * Checkpoint n arrived from the coordinator. A source injects its barrier; a subtask whose input
   * ended answers with its final state (no barrier can reach it any more); any other waits for barriers.
   */
  triggerCheckpoint(trigger: CheckpointTrigger): void {
    this.snapshots.triggered(trigger);
    if (this.state === 'ended') {
      this.takeOwedCheckpoint();
      return;
    }
    if (this.state === 'running') this.onTrigger(trigger);
  }

  checkpointAborted(checkpointId: number): void {
    this.snapshots.aborted(checkpointId);
    this.onAbort(checkpointId);
  }

  /**
   * Stop-after checkpoint n completed, and the job goes on after all (a handover's successor
   * failed before its first checkpoint): a source paused after barrier n continues from there.
   */
  resumeAfterStop(checkpointId: number): void {
    // The rollback's downtime ends at the first record after this: report it like a first record.
    this.reportNextRecord = true;
    this.onResume(checkpointId);
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (this.state === 'failed' || this.state === 'canceled') return;
    await this.chain.notifyCheckpointComplete(checkpointId);
  }

  /** Restores operator state (what snapshotState returned, per old subtask) before open. */
  async initializeState(statesByUid: ReadonlyMap<string, readonly unknown[]>): Promise<void> {
    await this.chain.initializeState(statesByUid);
  }

  /** Restore: a source reads these splits instead of creating its own (other tasks have none). */
  restoreSplits(_splits: readonly SourceSplit[]): void {}

  keyedStateOf(uid: string): KeyedStateBackend | undefined {
    return this.chain.keyedStateOf(uid);
  }

  /**
   * Restore, before any channel can deliver: this subtask has channel state to restore, so its
   * input waits behind the recovered input until {@link restoreChannelState} installs it.
   */
  expectChannelState(): void {}

  /**
   * After a restore, before start: in-flight data of the checkpoint goes first. The recovered
   * input goes ahead of whatever upstream already replayed; the recovered output goes out before
   * any new output (the subtask starts only once every worker has restored).
   */
  restoreChannelState(data: RestoredChannelState): void {
    this.restoreInput(data.input);
    this.output.replay(data.output);
  }

  /** Ended: the checkpoint this subtask owes (see TaskSnapshots.owed) gets its final state. */
  private takeOwedCheckpoint(): void {
    const owed = this.snapshots.owed();
    if (owed) this.performCheckpoint(owed.id, { sourceState: this.finalSourceState(), barrierAt: owed.at ?? Date.now() });
  }

  protected performCheckpoint(checkpointId: number, options: Omit<CheckpointOptions, 'lastRecordAt'> = {}): void {
    this.snapshots.take(checkpointId, { ...options, lastRecordAt: this.lastRecordAt });
  }

  /**
   * Per batch, not per record: one clock read per batch is cheap. The wall clock, not processing
   * time: a first record's time measures a handover's downtime, and lastRecordAt goes into checkpoint stats.
   */
  protected recordsProcessed(): void {
    const now = Date.now();
    if (this.lastRecordAt === 0 || this.reportNextRecord) {
      this.reportNextRecord = false;
      this.host.onFirstRecord?.(now);
    }
    this.lastRecordAt = now;
  }

  protected async finishInput(): Promise<void> {
    this.state = 'finishing';
    for (const op of this.chain.operators) {
      const ending = op.endInput();
      if (ending === undefined) continue;
      // Waits (asyncMap: for its requests in flight) before the next operator's endInput, as Flink's mailbox does.
      this.endingInput = true;
      try {
        await ending;
      } finally {
        this.endingInput = false;
      }
      if (this.state !== 'finishing') return;
    }
    this.output.end();
    while (!this.output.available()) {
      this.output.markBlocked();
      await this.waitFor(Wake.OUTPUT, false);
      if (this.state !== 'finishing') return;
    }
    if (this.host.awaitFinalCheckpoint) {
      // Nothing becomes visible yet: the final checkpoint covers this state and output first.
      this.state = 'ended';
      this.takeOwedCheckpoint();
      return;
    }
    // Checkpointing is off: there is no exactly-once promise across failures, so the output is committed now.
    await this.finishOperators();
  }

  /**
   * The job's final checkpoint completed (its sinks committed what it staged): the subtask
   * finishes, its operators close. Only an ended subtask can have taken part in it.
   */
  async finishAfterFinalCheckpoint(checkpointId: number): Promise<void> {
    if (this.state === 'failed' || this.state === 'canceled' || this.state === 'finished') return;
    if (this.state !== 'ended') {
      throw new BatonInternalError(`subtask ${this.task.operators[0].uid}/${this.subtaskIndex} is ${this.state}, not ended, when the final checkpoint ${checkpointId} completed`);
    }
    this.state = 'finishing';
    await this.finishOperators();
  }

  private async finishOperators(): Promise<void> {
    await this.chain.finish();
    if (this.state !== 'finishing') return;
    this.state = 'finished';
    this.release();
    this.chain.disposeState();
    this.resolveDone(this.chain.result());
  }

  /**
   * An operator stops the input (asyncMap at capacity): the input task stops between two records,
   * a source between two polls. Barriers still pass: an unaligned barrier overtakes the held input
   * at once; an aligned one waits behind the records before it, as in Flink, where the mailbox
   * processes completions, not input, while an operator waits for capacity. A checkpoint trigger
   * reaches a held source, which injects its barrier between two polls as ever.
   */
  private holdInput(operatorId: number): void {
    this.inputHolds.add(operatorId);
    this.held = true;
  }

  private releaseInput(operatorId: number): void {
    if (!this.inputHolds.delete(operatorId) || this.inputHolds.size > 0) return;
    this.held = false;
    this.wakeUp(Wake.HOLD);
  }

  /** Running, or awaiting an operator's asynchronous endInput: timers and task actions run. */
  private actionPhase(): ActionPhase {
    if (this.state === 'created' || this.state === 'open') return 'before-start';
    return this.state === 'running' || (this.state === 'finishing' && this.endingInput) ? 'now' : 'never';
  }
}
