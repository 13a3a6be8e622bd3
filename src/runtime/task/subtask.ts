// One running subtask: a chain of operators fed by a source or by its input gate, feeding channel writers.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { keyGroupRangeFor } from '../../state/key-groups.ts';
import { HeapKeyedStateBackend } from '../../state/heap/heap-keyed-state-backend.ts';
import type { KeyedStateBackend, KeyGroupRange } from '../../state/types.ts';
import type { ChannelWriter } from '../channels/channel-writer.ts';
import { InputGate, type RecordedBatch } from '../channels/input-gate.ts';
import type { ChannelMessage } from '../channels/types.ts';
import { BatonInternalError } from '../errors.ts';
import {
  MAX_WATERMARK,
  NO_TIMESTAMP,
  type GraphNode,
  type OperatorContext,
  type OperatorMetrics,
  type Output,
  type PlannedTask,
  type RuntimeTuning,
  type Source,
  type SourceReader,
  type SourceSplit,
  type StreamOperator,
} from '../types.ts';
import { type AlignmentDecision, BarrierAligner } from './barrier-aligner.ts';
import { ChainedOutput } from './chained-output.ts';
import { SideRoutingOutput } from './side-outputs.ts';
import { type ChannelStateData, ChannelStateRecording, type InFlightInput } from './channel-state-recorder.ts';
import type { InFlightLog } from './in-flight-log.ts';
import { type ProcessingTimeService, systemProcessingTime } from '../time/processing-time-service.ts';
import { isChannelState, planUnalignedSwitch, selectChannelState } from './unaligned-cutoffs.ts';

export type { ChannelStateData } from './channel-state-recorder.ts';
import { type EdgeWriters, RecordWriterOutput } from './record-writer-output.ts';

/** Longest an input drain runs before it lets the worker's event loop in (ms). */
const DRAIN_SLICE_MS = 10;

/** Source chunks (of batchSize records) emitted between two turns of the worker's event loop. */
const SOURCE_CHUNKS_PER_YIELD = 4;

/** One split of a source subtask: where it is, its reader while open, and its own watermark. */
interface SplitProgress {
  split: SourceSplit;
  reader?: SourceReader<unknown>;
  finished?: boolean;
  /** A poll that has to wait (its promise), until it settles. */
  pending?: Promise<void>;
  /** That poll failed: the source fails with it. */
  failure?: { readonly error: unknown };
  watermark: number;
  emitWatermark?: (watermark: number) => void;
}

interface BatchInProgress {
  readonly channel: number;
  readonly seq: number;
  readonly message: ChannelMessage;
  readonly noCredit?: boolean;
  index: number;
}

/** Checkpoint n as seen at this subtask's input before it is taken: when it was triggered, where its aligned barriers wait. */
interface BarrierSighting {
  /**
   * When the checkpoint was triggered (epoch ms, from its barriers). Checkpoint timing stays on the
   * wall clock, never processing time: it is the coordinator's clock, shared by every thread.
   */
  readonly at: number;
  /** Aligned barriers n queued and not processed yet: channel → arrival number of the message carrying it. */
  readonly queued: Map<number, number>;
  /** The alignment timeout is armed (a timer, or a switch already queued). */
  armed?: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

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
   * checkpoint ({@link Subtask.finishAfterFinalCheckpoint}) instead of finishing (and committing) at once.
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

export class Subtask {
  state: SubtaskState = 'created';
  readonly gate: InputGate | undefined;
  readonly metrics: OperatorMetrics[];
  private readonly operators: StreamOperator[];
  private readonly operatorNodes: GraphNode[];
  private readonly backends: KeyedStateBackend[] = [];
  private readonly source: Source<unknown> | undefined;
  private writers: ChannelWriter[] = [];
  private output: Output | undefined;
  private entry: Output | undefined;
  private drainScheduled = false;
  /** Set only for a two-input head: input channel → 0 or 1. */
  private channelInputs: Uint8Array | undefined;
  /** Source: the reader said it has to wait (or the source is paused after a stop barrier). */
  private sourceWaiting = false;
  private waitingForOutput: (() => void) | undefined;
  /** Alignment-timeout timers, on the wall clock (see armAlignmentTimeout). */
  private readonly pendingTimers = new Set<ReturnType<typeof setTimeout>>();
  /** Cancels of the operators' processing-time timers not fired yet. */
  private readonly pendingProcessingTimers = new Set<() => void>();
  private readonly processingTime: ProcessingTimeService;
  private resolveDone!: (result: SubtaskResult | undefined) => void;
  private sinkResults: Array<{ uid: string; value: unknown }> = [];
  private readonly backendsByUid = new Map<string, KeyedStateBackend>();
  /** Source only: checkpoints triggered and not yet taken (between two polls). */
  private readonly triggers: CheckpointTrigger[] = [];
  /** Source only: splits restored from a checkpoint, replacing createSplits. */
  restoredSplits: SourceSplit[] | undefined;
  private currentSplits: SplitProgress[] = [];
  private readonly aligner: BarrierAligner | undefined;
  /** A batch whose records are partly processed (the drain's time slice ran out). */
  private inProgress: BatchInProgress | undefined;
  /** Unaligned checkpoint n in progress: input channels still owing barrier n and what they sent meanwhile. */
  private recording: ChannelStateRecording | undefined;
  private lastUnaligned = 0;
  /** Newest checkpoint aborted: its barriers still in flight are ignored (checkpoints run one at a time). */
  private lastAborted = 0;
  /** Newest checkpoint this subtask snapshotted (aligned, unaligned, by a source's trigger or once ended). */
  private lastTaken = 0;
  /** Newest checkpoint the coordinator triggered: once ended, the subtask owes it its final state if not taken. */
  private lastTriggered: CheckpointTrigger | undefined;
  /** Checkpoints whose barriers reached the input and that are not taken yet. */
  private readonly sightings = new Map<number, BarrierSighting>();
  /** Continuous spilling: every input batch is persisted as it arrives; channel state refers to it. */
  private readonly inFlightLog: InFlightLog | undefined;
  /** Source: paused after the barrier of a stop-with-checkpoint (its id), until stop or abort. */
  private paused: number | false = false;
  private resume: (() => void) | undefined;
  private drained = false;
  /** Resumed after a stop-after checkpoint: the next record processed is reported as a first record. */
  private reportNextRecord = false;
  /** Epoch ms of the last batch of records processed (0: none yet). */
  private lastRecordAt = 0;
  /** Back-pressure: ms the output was unavailable (writers without credit), over periods that ended. */
  private backpressuredMs = 0;
  /** performance.now() when the current back-pressured period began; -1: output available. */
  private blockedSince = -1;
  /** Settles when the subtask has finished, failed or been canceled. */
  readonly done: Promise<SubtaskResult | undefined>;
  /** Operators (node ids) holding the input (asyncMap at capacity): no record is taken until none does. */
  private readonly inputHolds = new Set<number>();
  /** `inputHolds` is not empty: read per record, so a plain field. */
  private held = false;
  /** A source loop waiting for the hold to end (or a checkpoint trigger to serve meanwhile). */
  private wakeHeldSource: (() => void) | undefined;
  /** An operator's endInput is under way asynchronously (asyncMap waits for its requests): timers and task actions still run. */
  private endingInput = false;
  private flushScheduled = false;
  /** Task actions and timers due before the subtask started: they run when it starts. */
  private readonly beforeStart: Array<() => void> = [];

  constructor(
    readonly task: PlannedTask,
    readonly subtaskIndex: number,
    nodes: readonly GraphNode[],
    private readonly host: SubtaskHost,
    inputChannelCount: number,
    /** Per input channel, which input of the head it feeds (0, or 1 for a two-input operator's second). */
    channelInputs: readonly number[] = [],
  ) {

    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    // Before the operators are created: their contexts read it.
    this.processingTime = host.processingTime ?? systemProcessingTime;
    const chainNodes = task.operators.map((o) => nodes[o.nodeId]);
    this.metrics = chainNodes.map(() => ({ recordsIn: 0, recordsOut: 0 }));
    if (task.isSource) {
      this.source = chainNodes[0].source;
      this.operatorNodes = chainNodes.slice(1);
    } else {
      this.operatorNodes = chainNodes;
      this.gate = new InputGate(inputChannelCount, () => this.scheduleDrain());
      const gate = this.gate;
      this.aligner = new BarrierAligner(inputChannelCount, (c) => gate.isEnded(c));
      // Also in aligned mode: an upstream task whose alignment timed out sends unaligned barriers.
      gate.onPriorityBarrier = (channel, id, at) => this.onPriorityBarrier(channel, id, at);
      gate.onBarrierQueued = (channel, id, at, seq) => this.onBarrierQueued(channel, id, at, seq);
      gate.onArrival = (channel, seq, batch) => this.recording?.onArrival(channel, seq, batch);
    }
    const metricsOffset = task.isSource ? 1 : 0;
    this.operators = this.operatorNodes.map((node, i) => node.operator!.create(this.operatorContext(node, this.metrics[i + metricsOffset])));
    // Only a two-input head tells its inputs apart; a union's several inputs all feed processElement.
    const twoInput = typeof this.operators[0]?.processElement2 === 'function' && !this.source;
    this.channelInputs = twoInput && channelInputs.some((i) => i !== 0) ? Uint8Array.from(channelInputs) : undefined;
    this.inFlightLog = this.gate ? host.createInFlightLog?.(this) : undefined;
    const log = this.inFlightLog;
    if (log && this.gate) this.gate.onQueued = (channel, seq, message, wire) => log.append(channel, seq, message, wire);
  }

  /** Wires the chain's tail to its channel writers and opens every operator. */
  async open(edges: readonly EdgeWriters[]): Promise<void> {
    this.writers = edges.flatMap((e) => [...e.writers]);
    const offset = this.source ? 1 : 0;
    const tailMetrics = this.metrics[this.metrics.length - 1];
    const producerUid = this.task.operators[this.task.operators.length - 1].uid;
    this.output = new RecordWriterOutput(
      edges.filter((e) => e.sideOutput === undefined),
      tailMetrics,
      this.host.maxParallelism,
      this.subtaskIndex,
      producerUid,
    );
    const sides = this.sideOutputs(edges);
    // Open from the tail so each operator's output is ready before anything can call it.
    for (let i = this.operators.length - 1; i >= 0; i--) {
      const main = i + 1 < this.operators.length ? new ChainedOutput(this.metrics[i + offset], this.metrics[i + 1 + offset], this.operators[i + 1]) : this.output;
      const side = sides.get(this.operatorNodes[i].id);
      await this.operators[i].open(side ? new SideRoutingOutput(main, side) : main);
    }
    if (this.source) {
      this.entry = this.operators.length > 0 ? new ChainedOutput(this.metrics[0], this.metrics[1], this.operators[0]) : this.output;
    }
    this.state = 'open';
  }

  /** Per chained operator (node id): its side outputs by tag, each routed over that tag's edges. */
  private sideOutputs(edges: readonly EdgeWriters[]): Map<number, Map<string, RecordWriterOutput>> {
    const grouped = new Map<number, Map<string, EdgeWriters[]>>();
    for (const edge of edges) {
      if (edge.sideOutput === undefined || edge.fromNodeId === undefined) continue;
      const byTag = grouped.get(edge.fromNodeId) ?? new Map<string, EdgeWriters[]>();
      grouped.set(edge.fromNodeId, byTag);
      byTag.set(edge.sideOutput, [...(byTag.get(edge.sideOutput) ?? []), edge]);
    }
    const routers = new Map<number, Map<string, RecordWriterOutput>>();
    for (const [nodeId, byTag] of grouped) {
      const uid = this.operatorNodes.find((n) => n.id === nodeId)?.uid ?? producerUidOf(this.task);
      // Side records are not the operator's main output: counted apart from recordsOut.
      const counted: OperatorMetrics = { recordsIn: 0, recordsOut: 0 };
      routers.set(nodeId, new Map([...byTag].map(([tag, tagEdges]) => [tag, new RecordWriterOutput(tagEdges, counted, this.host.maxParallelism, this.subtaskIndex, uid)])));
    }
    return routers;
  }

  start(): void {
    if (this.state !== 'open') return;
    this.state = 'running';
    for (const run of this.beforeStart.splice(0)) run();
    if (this.source) {
      this.runSource().catch((error) => this.fail(error));
    } else if (this.gate!.channelCount === 0) {
      this.finishInput().catch((error) => this.fail(error));
    } else {
      this.scheduleDrain();
    }
  }

  /** Called by a writer whose backlog drained. */
  onWriterAvailable(): void {
    if (!this.outputAvailable()) return;
    this.markUnblocked();
    const waiter = this.waitingForOutput;
    if (waiter) {
      this.waitingForOutput = undefined;
      waiter();
    }
    if (this.gate && this.state === 'running') this.scheduleDrain();
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
    for (const op of this.operators) {
      try {
        await op.close();
      } catch {
        // The job is already failing; the first error is the one reported.
      }
    }
    this.disposeState();
    this.resolveDone(undefined);
  }

  private release(): void {
    this.markUnblocked();
    for (const timer of this.pendingTimers) clearTimeout(timer);
    this.pendingTimers.clear();
    for (const cancel of this.pendingProcessingTimers) cancel();
    this.pendingProcessingTimers.clear();
    const waiter = this.waitingForOutput;
    this.waitingForOutput = undefined;
    waiter?.();
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
    this.wakeReader();
    this.wakeHeldSource?.();
  }

  private operatorContext(node: GraphNode, metrics?: OperatorMetrics): OperatorContext {
    let keyedState: KeyedStateBackend | undefined;
    if (node.keyed) {
      const range = keyGroupRangeFor(this.subtaskIndex, this.task.parallelism, this.host.maxParallelism);
      keyedState =
        this.host.createKeyedState?.(node.uid, this.subtaskIndex, range) ??
        new HeapKeyedStateBackend({ keyGroupRange: range, maxParallelism: this.host.maxParallelism });
      this.backends.push(keyedState);
      this.backendsByUid.set(node.uid, keyedState);
    }
    return {
      uid: node.uid,
      name: node.name,
      subtaskIndex: this.subtaskIndex,
      parallelism: this.task.parallelism,
      maxParallelism: this.host.maxParallelism,
      workerIndex: this.host.workerIndex,
      ...(this.host.jobId !== undefined ? { jobId: this.host.jobId } : {}),
      keyedState,
      // A call through the service, not a cached value: operators read it per batch or per timer, never per record.
      currentProcessingTime: () => this.processingTime.now(),
      scheduleProcessingTime: (atMs, fire) => this.scheduleTimer(atMs, fire),
      fail: (error) => this.fail(error),
      metrics,
      pauseInput: () => this.holdInput(node.id),
      resumeInput: () => this.releaseInput(node.id),
      runOnTask: (action) => this.runOnTask(action),
    };
  }

  /**
   * A processing-time timer of an operator, on the host's clock: it fires only while the subtask
   * runs, a failure in it fails the subtask, and what it emitted is flushed unless input is queued
   * (the drain that follows flushes it with that input's output).
   */
  private scheduleTimer(atMs: number, fire: () => void): () => void {
    let canceled = false;
    // The service never fires from inside schedule, so `cancel` is assigned before the callback can run.
    const cancel = this.processingTime.schedule(atMs, () => {
      this.pendingProcessingTimers.delete(cancel);
      if (this.state === 'created' || this.state === 'open') {
        // Due before the subtask started (a restored timer in the past): it fires at start (unless canceled by then), not never.
        this.beforeStart.push(() => {
          if (!canceled) this.runOnTask(fire);
        });
        return;
      }
      if (!this.takesTaskWork()) return;
      try {
        fire();
        if (!this.gate || this.gate.queued === 0 || this.held) this.flushOutputs();
      } catch (error) {
        this.fail(error);
      }
    });
    this.pendingProcessingTimers.add(cancel);
    return () => {
      canceled = true;
      cancel();
      this.pendingProcessingTimers.delete(cancel);
    };
  }

  /**
   * Ms this subtask could not send (its output writers had no credit) since it started, the
   * current period included. Clock reads happen only when output becomes unavailable or available
   * again, never per record or batch, so measuring back-pressure costs nothing on the hot path.
   */
  backpressuredTime(): number {
    return this.blockedSince < 0 ? this.backpressuredMs : this.backpressuredMs + performance.now() - this.blockedSince;
  }

  private markBlocked(): void {
    if (this.blockedSince < 0) this.blockedSince = performance.now();
  }

  private markUnblocked(): void {
    if (this.blockedSince < 0) return;
    this.backpressuredMs += performance.now() - this.blockedSince;
    this.blockedSince = -1;
  }

  private outputAvailable(): boolean {
    const writers = this.writers;
    for (let i = 0; i < writers.length; i++) if (!writers[i].available) return false;
    return true;
  }

  /**
   * Nothing to do until something arrives: no input queued or half processed, and a source waits
   * for its reader. Workers in one thread (baton/testing) settle on this between test steps.
   */
  isQuiet(awaitAsync = true): boolean {
    // `awaitAsync` false: requests in flight (asyncMap) may wait for what the caller does next (processing time).
    if (awaitAsync && !this.operatorsIdle()) return false;
    // Held by an operator at capacity: nothing moves until one of its requests completes.
    if (this.held && this.state === 'running') return true;
    if (this.drainScheduled || this.inProgress !== undefined) return false;
    if (this.gate && this.gate.queued > 0) return false;
    if (!this.source) return true;
    // A source not started yet has its input ahead of it.
    if (this.state === 'created' || this.state === 'open') return false;
    return this.state !== 'running' || this.sourceWaiting;
  }

  private waitForOutput(): Promise<void> {
    if (this.outputAvailable() || this.state !== 'running') return Promise.resolve();
    this.markBlocked();
    return new Promise((resolve) => {
      this.waitingForOutput = resolve;
    });
  }

  private flushOutputs(): void {
    for (const writer of this.writers) if (writer.pendingRecords > 0) writer.flush();
  }

  private endOfBatch(): void {
    const ops = this.operators;
    for (let i = 0; i < ops.length; i++) ops[i].endOfBatch();
  }

  /**
   * Reads this subtask's splits. A reader that never waits (a file, a sequence) is read to its end
   * before the next split's reader is opened, as ever; when every open reader has to wait (an
   * unbounded log, a test input), the next split is opened too, and the loop waits for whichever
   * reader can go on first: an unbounded split never starves the others. Watermarks the readers
   * emit are combined per split (the lowest of the open splits), so one split ahead in event time
   * does not make another's records late.
   */
  private async runSource(): Promise<void> {
    const source = this.source!;
    const parallelism = this.task.parallelism;
    const splits = this.restoredSplits ?? source.createSplits(parallelism).filter((_, j) => j % parallelism === this.subtaskIndex);
    this.currentSplits = splits.map((split) => ({ split, watermark: Number.NEGATIVE_INFINITY }));
    const uid = this.task.operators[0].uid;
    const entry = this.entry!;
    const emit = (value: unknown, timestamp: number): void => entry.collect(value, timestamp);
    const batchSize = this.host.tuning.batchSize;
    const readerContext = { subtaskIndex: this.subtaskIndex, parallelism, uid };
    const active: SplitProgress[] = [];
    let opened = 0;
    let emittedWatermark = Number.NEGATIVE_INFINITY;
    // The writers flush pending records before a watermark: it never overtakes them in a channel.
    const combineWatermarks = (): void => {
      let low = Number.POSITIVE_INFINITY;
      for (const c of active) if (c.watermark < low) low = c.watermark;
      if (active.length > 0 && low > emittedWatermark && low !== Number.POSITIVE_INFINITY) {
        emittedWatermark = low;
        entry.emitWatermark(low);
      }
    };
    const open = (): void => {
      const current = this.currentSplits[opened++];
      current.watermark = Number.NEGATIVE_INFINITY;
      current.emitWatermark = (watermark: number) => {
        if (watermark <= current.watermark) return;
        current.watermark = watermark;
        combineWatermarks();
      };
      current.reader = source.createReader(current.split, readerContext);
      active.push(current);
    };
    let chunks = 0;
    try {
      for (;;) {
        if (this.state !== 'running') return;
        for (let i = active.length - 1; i >= 0; i--) {
          const current = active[i];
          if (current.failure) throw current.failure.error;
          if (current.pending || !current.reader!.finished) continue;
          current.split = current.reader!.currentSplit();
          current.reader!.close();
          current.reader = undefined;
          current.finished = true;
          active.splice(i, 1);
          // A finished split no longer holds the watermark back.
          combineWatermarks();
        }
        if (active.length === 0) {
          if (opened >= this.currentSplits.length) break;
          open();
          continue;
        }
        if (this.triggers.length > 0) this.takeSourceCheckpoints();
        if (this.paused) {
          this.sourceWaiting = true;
          await this.waitForResume();
          this.sourceWaiting = false;
          continue;
        }
        if (this.held) {
          // An operator of the chain stopped taking input: wait for it (or for a checkpoint trigger).
          await new Promise<void>((resolve) => {
            this.wakeHeldSource = resolve;
          });
          this.wakeHeldSource = undefined;
          continue;
        }
        if (!this.outputAvailable()) {
          await this.waitForOutput();
          continue;
        }
        let polledNow = false;
        for (const current of active) {
          if (current.pending) continue;
          const polled = current.reader!.poll(batchSize, emit, current.emitWatermark);
          if (typeof polled === 'number') {
            polledNow = true;
            if (polled > 0) this.recordsProcessed();
            continue;
          }
          current.pending = polled.then(
            (emitted) => {
              current.pending = undefined;
              if (emitted > 0) this.recordsProcessed();
            },
            (error: unknown) => {
              // Kept, not thrown here: the loop may be busy with another split; it fails the source next turn.
              current.pending = undefined;
              current.failure = { error };
            },
          );
        }
        this.endOfBatch();
        if (!polledNow) {
          // Every open reader waits: open the next split, or wait for the first reader that can go on.
          if (opened < this.currentSplits.length) {
            open();
            continue;
          }
          // Ship what we have so downstream is not held up meanwhile.
          this.flushOutputs();
          this.sourceWaiting = true;
          await Promise.race(active.map((c) => c.pending));
          this.sourceWaiting = false;
          continue;
        }
        // Let the event loop deliver channel messages (credits, other subtasks' input) now and
        // then: an event-loop turn costs ~20 µs, too much to pay after every chunk.
        if (++chunks % SOURCE_CHUNKS_PER_YIELD === 0) await yieldToEventLoop();
      }
    } finally {
      for (const current of active) {
        if (!current.reader) continue;
        current.split = current.reader.currentSplit();
        current.reader.close();
        current.reader = undefined;
      }
    }
    if (this.state === 'running') {
      this.host.onInputEnded?.(this);
      entry.emitWatermark(MAX_WATERMARK);
      await this.finishInput();
    }
  }

  /** Source: serve every pending trigger between two polls, in order. */
  private takeSourceCheckpoints(): void {
    for (let trigger = this.triggers.shift(); trigger; trigger = this.triggers.shift()) {
      if (trigger.stop === 'terminate' && !this.drained) {
        // Drain: windows and timers fire before the barrier, so their output is part of it.
        this.drained = true;
        this.entry!.emitWatermark(MAX_WATERMARK);
      }
      const splits = this.unfinishedSplits();
      this.performCheckpoint(trigger.id, { sourceState: { splits }, unaligned: this.host.checkpointMode === 'unaligned', barrierAt: trigger.at ?? Date.now() });
      // A stop pauses the source after its barrier; an abort of that checkpoint resumes it.
      if (trigger.stop) this.paused = trigger.id;
    }
  }

  /**
   * Checkpoint n arrived from the coordinator. A source injects its barrier; a subtask whose input
   * ended answers with its final state (no barrier can reach it any more); any other waits for barriers.
   */
  triggerCheckpoint(trigger: CheckpointTrigger): void {
    if (!this.lastTriggered || trigger.id > this.lastTriggered.id) this.lastTriggered = trigger;
    if (this.state === 'ended') {
      this.takeOwedCheckpoint();
      return;
    }
    if (!this.source || this.state !== 'running') return;
    this.triggers.push(trigger);
    const waiter = this.waitingForOutput;
    this.waitingForOutput = undefined;
    waiter?.();
    this.wakeReader();
    // A source held by an operator at capacity takes its barrier now: the operator snapshots its requests in flight.
    this.wakeHeldSource?.();
  }

  /** A source whose reader waits (for input that may never come) takes its barrier now, not after the wait. */
  private wakeReader(): void {
    if (!this.sourceWaiting) return;
    for (const current of this.currentSplits) current.reader?.wakeUp?.();
  }

  /** Checkpoint n was aborted: a source paused by a stop-with-checkpoint n goes on. */
  checkpointAborted(checkpointId: number): void {
    if (checkpointId > this.lastAborted) this.lastAborted = checkpointId;
    this.forgetSightings(checkpointId);
    if (this.aligner) this.apply(this.aligner.abort(checkpointId));
    if (this.recording?.checkpointId === checkpointId) this.recording = undefined;
    if (this.paused === checkpointId) {
      this.paused = false;
      const resume = this.resume;
      this.resume = undefined;
      resume?.();
    }
  }

  /**
   * Stop-after checkpoint n completed, and the job goes on after all (a handover's successor
   * failed before its first checkpoint): a source paused after barrier n continues from there.
   */
  resumeAfterStop(checkpointId: number): void {
    // The rollback's downtime ends at the first record after this: report it like a first record.
    this.reportNextRecord = true;
    if (this.paused !== checkpointId) return;
    this.paused = false;
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (this.state === 'failed' || this.state === 'canceled') return;
    for (const op of this.operators) await op.notifyCheckpointComplete?.(checkpointId);
  }

  /** Restores operator state (what snapshotState returned, per old subtask) before open. */
  async initializeState(statesByUid: ReadonlyMap<string, readonly unknown[]>): Promise<void> {
    for (let i = 0; i < this.operators.length; i++) {
      const states = statesByUid.get(this.operatorNodes[i].uid);
      if (states) await this.operators[i].initializeState?.(states);
    }
  }

  keyedStateOf(uid: string): KeyedStateBackend | undefined {
    return this.backendsByUid.get(uid);
  }

  /** Ends the subtask for a suspend or stop: no draining, sinks keep what checkpoints staged. */
  async suspend(): Promise<void> {
    if (this.state === 'finished' || this.state === 'failed' || this.state === 'canceled') return;
    this.state = 'finishing';
    this.release();
    for (let i = 0; i < this.operators.length; i++) {
      await this.operators[i].suspend?.();
      const value = await this.operators[i].close();
      if (value !== undefined) this.sinkResults.push({ uid: this.operatorNodes[i].uid, value });
    }
    this.state = 'finished';
    this.disposeState();
    this.resolveDone(this.result());
  }

  private waitForResume(): Promise<void> {
    if (this.paused === false || this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      this.resume = resolve;
    });
  }

  /**
   * Ended: the newest checkpoint triggered and neither taken nor aborted gets this subtask's final
   * state. It is consistent with its producers' parts: every channel into this subtask ended, so
   * each producer ended too and gives (or gave) its own final state, and everything it sent was
   * processed here; everything this subtask sent is already in its output channels.
   */
  private takeOwedCheckpoint(): void {
    const owed = this.lastTriggered;
    if (!owed || owed.id <= this.lastTaken || owed.id <= this.lastAborted) return;
    this.triggers.length = 0;
    const sourceState = this.source ? { splits: this.unfinishedSplits() } : undefined;
    this.performCheckpoint(owed.id, { sourceState, barrierAt: owed.at ?? Date.now() });
  }

  /** Source: where each split not read to its end has got to. */
  private unfinishedSplits(): SourceSplit[] {
    return this.currentSplits.filter((s) => !s.finished).map((s) => (s.reader ? s.reader.currentSplit() : s.split));
  }

  /** Snapshot of every operator of the chain, then the barrier goes downstream. */
  private performCheckpoint(
    checkpointId: number,
    options: { sourceState?: unknown; channelState?: Promise<ChannelStateData>; unaligned?: boolean; alignmentMs?: number; barrierAt?: number } = {},
  ): void {
    if (checkpointId > this.lastTaken) this.lastTaken = checkpointId;
    const barrierAt = options.barrierAt;
    const operators: Array<{ uid: string; state: unknown; keyedState?: KeyedStateBackend }> = [];
    if (this.source) operators.push({ uid: this.task.operators[0].uid, state: options.sourceState });
    for (let i = 0; i < this.operators.length; i++) {
      const uid = this.operatorNodes[i].uid;
      operators.push({ uid, state: this.operators[i].snapshotState?.(checkpointId), keyedState: this.backendsByUid.get(uid) });
    }
    const alignment = { unaligned: options.unaligned === true, alignmentMs: options.alignmentMs ?? 0, lastRecordAt: this.lastRecordAt };
    if (options.unaligned) {
      // The barrier overtakes what this subtask has not sent yet: that becomes its output state.
      const output = this.writers.map((w) => w.priorityBarrier(checkpointId, barrierAt));
      const state = options.channelState ?? Promise.resolve({ input: [], output });
      if (this.recording?.checkpointId === checkpointId) this.recording.setOutput(output);
      this.host.onSnapshot?.(this, checkpointId, { operators, channelState: state, ...alignment });
      this.finishRecordingIfDone();
      return;
    }
    this.host.onSnapshot?.(this, checkpointId, { operators, ...alignment });
    for (const writer of this.writers) writer.barrier(checkpointId, barrierAt);
  }

  /**
   * Unaligned: the first barrier n on any channel is acted on at once, overtaking queued input.
   * Everything queued (not yet processed) and everything the other channels deliver before their
   * barrier n is the input channel state; it is still processed as usual afterwards. A task in
   * aligned mode gets here too when an upstream task switched after its alignment timeout.
   */
  private onPriorityBarrier(channel: number, checkpointId: number, at: number | undefined): void {
    if (this.state !== 'running') return;
    if (this.recording?.checkpointId === checkpointId) {
      this.channelDelivered(channel);
      return;
    }
    if (!this.canStillTake(checkpointId)) return;
    this.sighting(checkpointId, at);
    this.switchToUnaligned(checkpointId, channel);
  }

  /**
   * An aligned barrier n was queued at the input (it is processed later, in arrival order). A
   * channel owing barrier n to an unaligned checkpoint taken meanwhile has now delivered all its
   * part; otherwise the alignment timeout of checkpoint n counts from its trigger, from here on.
   */
  private onBarrierQueued(channel: number, checkpointId: number, at: number | undefined, seq: number): void {
    if (this.recording?.checkpointId === checkpointId) {
      this.channelDelivered(channel);
      return;
    }
    if (!this.canStillTake(checkpointId)) return;
    const sighting = this.sighting(checkpointId, at);
    sighting.queued.set(channel, seq);
    this.armAlignmentTimeout(checkpointId, sighting);
  }

  /** Whether checkpoint n may still be taken here: not taken or aborted, not superseded by a newer alignment. */
  private canStillTake(checkpointId: number): boolean {
    if (checkpointId <= this.lastUnaligned || checkpointId <= this.lastAborted) return false;
    if (this.aligner && checkpointId <= this.aligner.lastTakenId) return false;
    const aligning = this.aligner?.current;
    return !aligning || aligning.id <= checkpointId;
  }

  private sighting(checkpointId: number, at: number | undefined): BarrierSighting {
    let sighting = this.sightings.get(checkpointId);
    if (!sighting) {
      sighting = { at: at ?? Date.now(), queued: new Map() };
      this.sightings.set(checkpointId, sighting);
    }
    return sighting;
  }

  /** Checkpoints up to n were taken or aborted: their timers and queued barriers no longer matter. */
  private forgetSightings(upTo: number): void {
    for (const [id, sighting] of this.sightings) {
      if (id > upTo) continue;
      if (sighting.timer !== undefined) {
        clearTimeout(sighting.timer);
        this.pendingTimers.delete(sighting.timer);
      }
      this.sightings.delete(id);
    }
  }

  /**
   * Takes checkpoint n unaligned now, the snapshot at once and a priority barrier downstream.
   * Input channel state, per channel (see planUnalignedSwitch): nothing for a channel whose
   * barrier n the aligner processed (what it holds back comes after it); what was queued up to
   * its barrier for a channel whose barrier n is still queued (processed later, then ignored);
   * everything queued on `priorityChannel`, which owes nothing more; everything queued on the
   * others plus what they deliver until their barrier n.
   */
  private switchToUnaligned(checkpointId: number, priorityChannel?: number): void {
    this.lastUnaligned = checkpointId;
    const gate = this.gate!;
    const aligning = this.aligner?.current;
    const aligningThis = aligning?.id === checkpointId;
    const arrived = new Set<number>(aligningThis ? aligning.arrived : []);
    const alignmentMs = aligningThis ? Date.now() - aligning.startedAt : 0;
    const sighting = this.sightings.get(checkpointId);
    const release = this.aligner?.switchToUnaligned(checkpointId);
    const plan = planUnalignedSwitch({
      channelCount: gate.channelCount,
      arrived,
      queuedBarriers: sighting?.queued ?? new Map(),
      priorityChannel,
      isEnded: (c) => gate.isEnded(c),
    });
    const cutoffs = plan.cutoffs;
    const log = this.inFlightLog;
    let input: InFlightInput[];
    let floorSeq: number | undefined;
    const partial = this.inProgress;
    const hasRest = partial?.message.values && partial.index < partial.message.values.length && isChannelState(cutoffs, partial.channel, partial.seq);
    if (log) {
      // Everything queued is already in the log: refer to it by arrival number.
      const queued = gate.queuedEntries();
      input = selectChannelState(queued, cutoffs).map((q) => ({ channel: q.channel, seq: q.seq, from: 0 }));
      if (hasRest) input.unshift({ channel: partial!.channel, seq: partial!.seq, from: partial!.index });
      // A later checkpoint may still refer to anything queued, channel state of this one or not.
      floorSeq = partial?.seq ?? gate.nextSeq;
      for (const q of queued) if (q.seq < floorSeq) floorSeq = q.seq;
      log.hold(checkpointId, floorSeq);
    } else {
      input = gate.queuedBatches((channel, seq) => isChannelState(cutoffs, channel, seq));
      // The unprocessed rest of a partly processed batch precedes the barrier too.
      if (hasRest) {
        const ts = partial!.message.timestamps;
        input.unshift({
          channel: partial!.channel,
          batch: { values: partial!.message.values!.slice(partial!.index), timestamps: ts ? Array.from(ts).slice(partial!.index) : null },
        });
      }
    }
    this.forgetSightings(checkpointId);
    this.recording = new ChannelStateRecording(checkpointId, plan.pending, input, floorSeq);
    const channelState = this.recording.done;
    this.performCheckpoint(checkpointId, { channelState, unaligned: true, alignmentMs, barrierAt: sighting?.at ?? Date.now() });
    if (release) this.apply(release);
  }

  /**
   * Aligned with a timeout: checkpoint n may stay aligned until `alignedTimeoutMs` after its
   * trigger (not after this task began aligning). Past that, while its barrier is still queued
   * on some channel or the alignment still waits, this task takes it unaligned. On the wall clock,
   * not processing time: the trigger's `at` is the coordinator's Date.now(), and the timeout bounds
   * how long checkpointing really takes, which a job's processing time says nothing about.
   */
  private armAlignmentTimeout(checkpointId: number, sighting: BarrierSighting): void {
    const timeoutMs = this.host.alignedTimeoutMs;
    if (timeoutMs === undefined || this.host.checkpointMode === 'unaligned' || sighting.armed) return;
    sighting.armed = true;
    const delay = sighting.at + timeoutMs - Date.now();
    if (delay <= 0) {
      // Already late on arrival: switch right away, though not inside whoever pushed the barrier
      // (a local producer's send, or this task's own credit return).
      queueMicrotask(() => this.onAlignmentDeadline(checkpointId));
      return;
    }
    const timer = setTimeout(() => {
      this.pendingTimers.delete(timer);
      sighting.timer = undefined;
      this.onAlignmentDeadline(checkpointId);
    }, delay);
    sighting.timer = timer;
    this.pendingTimers.add(timer);
  }

  private onAlignmentDeadline(checkpointId: number): void {
    if (this.state !== 'running' || !this.canStillTake(checkpointId)) return;
    const queued = this.sightings.get(checkpointId)?.queued.size ?? 0;
    if (queued === 0 && this.aligner?.current?.id !== checkpointId) return;
    try {
      this.switchToUnaligned(checkpointId);
    } catch (error) {
      this.fail(error);
    }
  }

  /** A channel delivered the barrier of the checkpoint being recorded (or ended). */
  private channelDelivered(channel: number): void {
    if (this.recording?.channelDone(channel)) this.recording = undefined;
  }

  private finishRecordingIfDone(): void {
    if (this.recording?.finishIfComplete()) this.recording = undefined;
  }

  /**
   * Restore, before any channel can deliver: this subtask has channel state to restore, so its
   * input waits behind the recovered input until {@link restoreChannelState} installs it.
   */
  expectChannelState(): void {
    this.gate?.awaitRecoveredInput();
  }

  /**
   * After a restore, before start: in-flight data of the checkpoint goes first. The recovered
   * input goes ahead of whatever upstream already replayed; the recovered output goes out before
   * any new output (the subtask starts only once every worker has restored).
   */
  restoreChannelState(data: RestoredChannelState): void {
    this.gate?.installRecoveredInput(data.input);
    data.output.forEach((batches, i) => this.writers[i]?.replay(batches));
  }

  private onBarrier(channel: number, checkpointId: number, at: number | undefined): void {
    if (this.recording?.checkpointId === checkpointId) {
      // A late barrier of a checkpoint this task took unaligned: that channel's in-flight data is complete.
      this.channelDelivered(channel);
      return;
    }
    // Also a queued barrier of a checkpoint this task switched to unaligned before processing it.
    if (checkpointId <= this.lastUnaligned) return;
    const sighting = this.canStillTake(checkpointId) ? this.sighting(checkpointId, at) : undefined;
    sighting?.queued.delete(channel);
    for (const decision of this.aligner!.onBarrier(channel, checkpointId, Date.now())) this.apply(decision);
    if (sighting && this.aligner!.current?.id === checkpointId) this.armAlignmentTimeout(checkpointId, sighting);
  }

  /** Carries out what the aligner decided, in order. */
  private apply(decision: AlignmentDecision | undefined): void {
    if (!decision) return;
    const gate = this.gate!;
    if (decision.releaseAll) gate.unblockAll();
    if (decision.block !== undefined) gate.block(decision.block);
    if (decision.checkpoint !== undefined) {
      const barrierAt = this.sightings.get(decision.checkpoint)?.at;
      this.forgetSightings(decision.checkpoint);
      this.performCheckpoint(decision.checkpoint, { alignmentMs: Date.now() - (decision.startedAt ?? Date.now()), barrierAt });
      gate.unblockAll();
    }
  }

  /**
   * Per batch, not per record: one clock read per batch is cheap. The wall clock, not processing
   * time: a first record's time measures a handover's downtime, and lastRecordAt goes into checkpoint stats.
   */
  private recordsProcessed(): void {
    const now = Date.now();
    if (this.lastRecordAt === 0 || this.reportNextRecord) {
      this.reportNextRecord = false;
      this.host.onFirstRecord?.(now);
    }
    this.lastRecordAt = now;
  }

  private result(): SubtaskResult {
    return {
      taskId: this.task.id,
      subtaskIndex: this.subtaskIndex,
      operators: this.task.operators.map((o, i) => ({ uid: o.uid, ...this.metrics[i] })),
      sinkResults: this.sinkResults,
    };
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.state !== 'running') return;
    this.drainScheduled = true;
    queueMicrotask(this.drain);
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    const gate = this.gate!;
    const deadline = performance.now() + (this.host.drainSliceMs ?? DRAIN_SLICE_MS);
    try {
      while (this.state === 'running') {
        if (this.held) {
          // An operator stopped taking input (e.g. asyncMap at capacity): its resumeInput drains on.
          this.flushOutputs();
          return;
        }
        if (!this.outputAvailable()) {
          this.markBlocked();
          return;
        }
        if (performance.now() > deadline) {
          // Let the event loop in: control commands, barriers, credits and timers must not wait
          // until a slow operator has worked through its whole queue.
          this.drainScheduled = true;
          setImmediate(this.drain);
          return;
        }
        let current = this.inProgress;
        if (current === undefined) {
          const next = gate.poll();
          if (next === undefined) {
            this.flushOutputs();
            return;
          }
          current = { ...next, index: 0 };
        }
        // A batch is processed in slices too: one slow operator must not hold the thread for a whole batch.
        if (!this.processRecords(current, deadline)) {
          this.inProgress = current;
          continue;
        }
        this.inProgress = undefined;
        this.processControl(current.channel, current.message);
        if (!current.noCredit) gate.acknowledge(current.channel);
      }
    } catch (error) {
      this.fail(error);
    }
  };

  /** Processes the records of a batch from `index`; false when the time slice ran out first. */
  private processRecords(current: BatchInProgress, deadline: number): boolean {
    const values = current.message.values;
    if (values === null) return true;
    const head = this.operators[0];
    const timestamps = current.message.timestamps;
    const start = current.index;
    let i = start;
    if (this.channelInputs !== undefined && this.channelInputs[current.channel] === 1) {
      // A two-input head, second input: decided once per batch (a batch comes from one channel).
      for (; i < values.length; i++) {
        if (this.held || ((i & 63) === 63 && performance.now() > deadline)) break;
        head.processElement2!(values[i], timestamps === null ? NO_TIMESTAMP : timestamps[i]);
      }
    } else {
      for (; i < values.length; i++) {
        if (this.held || ((i & 63) === 63 && performance.now() > deadline)) break;
        head.processElement(values[i], timestamps === null ? NO_TIMESTAMP : timestamps[i]);
      }
    }
    this.metrics[0].recordsIn += i - start;
    if (i > start) this.recordsProcessed();
    current.index = i;
    if (i < values.length) return false;
    this.endOfBatch();
    return true;
  }

  /** What follows a batch's records: its watermark, barrier and end marker. */
  private processControl(channel: number, message: ChannelMessage): void {
    const head = this.operators[0];
    const gate = this.gate!;
    if (message.watermark !== undefined) {
      const combined = gate.advanceWatermark(channel, message.watermark);
      if (combined !== undefined) head.processWatermark(combined);
    }
    if (message.barrier !== undefined) this.onBarrier(channel, message.barrier, message.barrierAt);
    if (message.end) this.channelDelivered(channel);
    if (message.end) {
      if (gate.markEnded(channel)) {
        this.state = 'finishing';
        this.finishInput().catch((error) => this.fail(error));
      } else {
        const combined = gate.watermarkAfterEnd();
        if (combined !== undefined) head.processWatermark(combined);
        // An ended channel no longer owes the barrier being aligned.
        this.apply(this.aligner!.onChannelEnded());
      }
    }
  }

  private async finishInput(): Promise<void> {
    this.state = 'finishing';
    for (const op of this.operators) {
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
    for (const writer of this.writers) writer.end();
    while (!this.outputAvailable()) {
      this.markBlocked();
      await new Promise<void>((resolve) => {
        this.waitingForOutput = resolve;
      });
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
    for (let i = 0; i < this.operators.length; i++) {
      const op = this.operators[i];
      await op.finish?.();
      const value = await op.close();
      if (value !== undefined) this.sinkResults.push({ uid: this.operatorNodes[i].uid, value });
    }
    if (this.state !== 'finishing') return;
    this.state = 'finished';
    this.release();
    this.disposeState();
    this.resolveDone(this.result());
  }

  private disposeState(): void {
    for (const backend of this.backends) backend.dispose();
    this.backends.length = 0;
  }

  /**
   * An operator stops the input (asyncMap at capacity): the drain stops between two records, a
   * source between two polls. Barriers still pass: an unaligned barrier overtakes the held input
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
    this.wakeHeldSource?.();
    if (this.gate && this.state === 'running') this.scheduleDrain();
  }

  /** Running, or awaiting an operator's asynchronous endInput: timers and task actions run. */
  private takesTaskWork(): boolean {
    return this.state === 'running' || (this.state === 'finishing' && this.endingInput);
  }

  /**
   * Work of an operator from an asynchronous callback (an asyncMap completion): runs at once
   * (never inside a record: the record path is synchronous), a throw fails the subtask, and what it
   * emitted is flushed unless a drain is due (which flushes it with its own output).
   */
  private runOnTask(action: () => void): void {
    if (this.state === 'created' || this.state === 'open') {
      // Before start (a request re-issued on restore completes while other workers still restore): at start.
      this.beforeStart.push(() => this.runOnTask(action));
      return;
    }
    if (!this.takesTaskWork()) return;
    try {
      action();
      this.scheduleFlush();
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Flushes what task actions emitted at the next turn of the event loop, unless a drain is due
   * (which flushes it with its own output): completions of one turn share a batch instead of
   * sending one each.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.drainScheduled && this.takesTaskWork()) this.flushOutputs();
    });
  }

  /** No operator has work under way outside the record path (asyncMap requests in flight). */
  private operatorsIdle(): boolean {
    for (const op of this.operators) if (op.isIdle?.() === false) return false;
    return true;
  }
}

function producerUidOf(task: PlannedTask): string {
  return task.operators[task.operators.length - 1].uid;
}
