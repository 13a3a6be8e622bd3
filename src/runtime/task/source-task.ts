// A source subtask: its default action reads the source's splits into the chain; checkpoints start here, at a trigger.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { MAX_WATERMARK, type GraphNode, type Output, type PlannedTask, type Source, type SourceSplit } from '../types.ts';
import { SourceSplits } from './source-splits.ts';
import { END_OF_INPUT, type LoopStep, StreamTask, Wake } from './stream-task.ts';
import { BatonInternalError } from '../errors.ts';
import type { CheckpointTrigger, SubtaskHost } from './subtask.ts';

/** Source chunks (of batchSize records) emitted between two turns of the worker's event loop. */
const SOURCE_CHUNKS_PER_YIELD = 4;

/**
 * Reads its splits (see {@link SourceSplits}) and injects checkpoint barriers between two polls,
 * where the coordinator's triggers wait. A stop-with-checkpoint pauses it after its barrier until
 * the job stops, or the checkpoint is aborted, or the job resumes after it.
 *
 * @example
 * ```ts
 * const task = new SourceTask(plannedTask, 0, graph.nodes, host);
 * await task.open(edges);
 * task.start(); // reads until its input ends
 * ```
 */
export class SourceTask extends StreamTask {
  private readonly source: Source<unknown>;
  /** Splits restored from a checkpoint, replacing createSplits. */
  private restoredSplits: readonly SourceSplit[] | undefined;
  private splits: SourceSplits | undefined;
  private entry: Output | undefined;
  /** Checkpoints triggered and not yet taken (between two polls). */
  private readonly triggers: CheckpointTrigger[] = [];
  /** Paused after the barrier of a stop-with-checkpoint (its id), until stop or abort. */
  private paused: number | false = false;
  /** A stop with drain emitted the max watermark already. */
  private drained = false;
  /** The reader said it has to wait (or the source is paused after a stop barrier). */
  private readerWaiting = false;
  private chunks = 0;
  /** A shadow deployment's hold was asked for (see holdSource) and is not taken yet. */
  private holdRequested = false;
  /** Held at the positions it reported, until released or a cut trigger arrives. */
  private holding = false;
  /** After a poll that emitted records (one closure, not one per poll). */
  private readonly onRecords = (): void => this.recordsProcessed();

  constructor(task: PlannedTask, subtaskIndex: number, nodes: readonly GraphNode[], host: SubtaskHost) {
    super(task, subtaskIndex, nodes, host);
    this.source = this.chain.source!;
  }

  protected override opened(entry: Output): void {
    this.entry = entry;
  }

  override restoreSplits(splits: readonly SourceSplit[]): void {
    this.restoredSplits = splits;
  }

  protected override startLoop(): void {
    const parallelism = this.task.parallelism;
    const splits = this.restoredSplits ?? this.source.createSplits(parallelism).filter((_, j) => j % parallelism === this.subtaskIndex);
    const readerContext = { subtaskIndex: this.subtaskIndex, parallelism, uid: this.task.operators[0].uid };
    this.splits = new SourceSplits(this.source, splits, readerContext, this.entry!);
    super.startLoop();
  }

  protected processInput(): LoopStep {
    const splits = this.splits!;
    this.readerWaiting = false;
    splits.closeFinished();
    if (splits.activeCount === 0) {
      if (splits.allOpened) return END_OF_INPUT;
      splits.openNext();
      return undefined;
    }
    // A shadow deployment's cut: every split is read exactly up to the cut's positions before its barrier.
    const cut = this.triggers.find((t) => t.cut !== undefined)?.cut;
    if (cut) {
      if (!this.output.available()) {
        this.output.markBlocked();
        return this.waitFor(Wake.OUTPUT | Wake.TRIGGER);
      }
      const step = this.towardCut(cut);
      this.chain.endOfBatch();
      if (step !== true) {
        if (step === false) return ++this.chunks % SOURCE_CHUNKS_PER_YIELD === 0 ? yieldToEventLoop() : undefined;
        this.output.flush();
        this.readerWaiting = true;
        return step;
      }
    }
    if (this.triggers.length > 0) this.takeCheckpoints();
    if (this.holdRequested) return this.takeHold();
    if (this.holding) {
      this.readerWaiting = true;
      return this.waitFor(Wake.TRIGGER | Wake.RESUME);
    }
    if (this.paused) {
      this.readerWaiting = true;
      return this.waitFor(Wake.RESUME);
    }
    // An operator of the chain stopped taking input: wait for it (or for a checkpoint trigger).
    if (this.held) return this.waitFor(Wake.HOLD | Wake.TRIGGER);
    if (!this.output.available()) {
      this.output.markBlocked();
      return this.waitFor(Wake.OUTPUT | Wake.TRIGGER);
    }
    const polledNow = splits.poll(this.host.tuning.batchSize, this.onRecords);
    this.chain.endOfBatch();
    if (!polledNow) {
      // Every open reader waits: open the next split, or wait for the first reader that can go on.
      if (!splits.allOpened) {
        splits.openNext();
        return undefined;
      }
      // Ship what we have so downstream is not held up meanwhile.
      this.output.flush();
      this.readerWaiting = true;
      return splits.firstReady();
    }
    // Let the event loop deliver channel messages (credits, other subtasks' input) now and
    // then: an event-loop turn costs ~20 µs, too much to pay after every chunk.
    if (++this.chunks % SOURCE_CHUNKS_PER_YIELD === 0) return yieldToEventLoop();
    return undefined;
  }

  protected override closeInput(): void {
    this.splits?.closeAll();
  }

  protected override async endOfInput(): Promise<void> {
    this.host.onInputEnded?.(this);
    this.entry!.emitWatermark(MAX_WATERMARK);
    await this.finishInput();
  }

  protected inputQuiet(): boolean {
    // A source not started yet has its input ahead of it.
    if (this.state === 'created' || this.state === 'open') return false;
    return this.state !== 'running' || this.readerWaiting;
  }

  /** Serves every pending trigger between two polls, in order. */
  private takeCheckpoints(): void {
    for (let trigger = this.triggers.shift(); trigger; trigger = this.triggers.shift()) {
      if (trigger.stop === 'terminate' && !this.drained) {
        // Drain: windows and timers fire before the barrier, so their output is part of it.
        this.drained = true;
        this.entry!.emitWatermark(MAX_WATERMARK);
      }
      const sourceState = { splits: this.splits!.unfinished() };
      this.performCheckpoint(trigger.id, { sourceState, unaligned: this.host.checkpointMode === 'unaligned', barrierAt: trigger.at ?? Date.now() });
      // A stop pauses the source after its barrier; an abort of that checkpoint resumes it.
      if (trigger.stop) this.paused = trigger.id;
      // A shadow deployment's cut: the next record is its first live one (the promotion's end).
      if (trigger.cut) this.reportNextRecordAsFirst();
    }
  }

  /** One pass toward the cut's positions for this source (see SourceSplits.towardCut). */
  private towardCut(cut: NonNullable<CheckpointTrigger['cut']>): boolean | Promise<unknown> {
    const uid = this.task.operators[0].uid;
    const limits = cut[uid];
    if (!limits) throw new BatonInternalError(`the cut names no position for source '${uid}'`);
    const compare = this.source.compareOffsets;
    if (!compare) throw new BatonInternalError(`source '${uid}' (${this.source.kind}) cannot be cut at positions: it has no compareOffsets`);
    return this.splits!.towardCut(limits, (a, b) => compare.call(this.source, a, b), uid, this.onRecords);
  }

  /**
   * A shadow deployment about to be promoted: the source stops reading between two polls (a poll
   * under way settles first) and reports where each split stands (`onSourceHeld`), then holds
   * there until released or a cut trigger arrives. A source not reading (its input ended) reports at once.
   */
  override holdSource(): void {
    if (this.state !== 'running' || !this.splits) {
      this.host.onSourceHeld?.(this, this.splits?.held() ?? []);
      return;
    }
    this.holdRequested = true;
    this.wakeUp(Wake.TRIGGER);
    if (this.readerWaiting) this.splits.wakeUp();
  }

  override releaseSource(): void {
    this.holdRequested = false;
    this.holding = false;
    this.wakeUp(Wake.RESUME);
  }

  /** Between two polls: every poll under way settles, the positions are reported, then the source holds. */
  private async takeHold(): Promise<void> {
    this.holdRequested = false;
    this.readerWaiting = true;
    await this.splits!.settle();
    if (this.state !== 'running') return;
    this.holding = true;
    this.output.flush();
    this.host.onSourceHeld?.(this, this.splits!.held());
  }

  protected override onTrigger(trigger: CheckpointTrigger): void {
    this.triggers.push(trigger);
    // A cut ends the hold: the source reads on exactly to the cut's positions.
    if (trigger.cut) this.holding = false;
    this.wakeUp(Wake.TRIGGER);
    // A reader waiting (for input that may never come) returns now, so the barrier goes now, not after the wait.
    if (this.readerWaiting) this.splits?.wakeUp();
  }

  /** Checkpoint n was aborted: a source paused by a stop-with-checkpoint n goes on. */
  protected override onAbort(checkpointId: number): void {
    this.onResume(checkpointId);
  }

  protected override onResume(checkpointId: number): void {
    if (this.paused !== checkpointId) return;
    this.paused = false;
    this.wakeUp(Wake.RESUME);
  }

  protected override onRelease(): void {
    if (this.readerWaiting) this.splits?.wakeUp();
  }

  protected override finalSourceState(): unknown {
    // The final state answers the triggers still pending too.
    this.triggers.length = 0;
    return { splits: this.splits?.unfinished() ?? [] };
  }
}
