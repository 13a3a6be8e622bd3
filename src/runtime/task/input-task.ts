// An input task: its default action drains the input gate into the head of its chain; checkpoint barriers go through the barrier handler.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { InputGate } from '../channels/input-gate.ts';
import type { ChannelMessage } from '../channels/types.ts';
import { type GraphNode, NO_TIMESTAMP, type PlannedTask, type StreamOperator } from '../types.ts';
import type { InFlightLog } from './in-flight-log.ts';
import { type InFlightInput, InFlightRecording } from './in-flight-recording.ts';
import { InputBarriers } from './input-barriers.ts';
import { type LoopStep, StreamTask, Wake } from './stream-task.ts';
import type { RestoredChannelState, SubtaskHost } from './subtask.ts';
import { isChannelState, selectChannelState } from './unaligned-cutoffs.ts';

/** Longest an input drain runs before it lets the worker's event loop in (ms). */
const DRAIN_SLICE_MS = 10;

/** An idle input task goes on when input arrives, its output gets credit, or an operator's hold ends. */
const INPUT_WAKE = Wake.INPUT | Wake.OUTPUT | Wake.HOLD;

interface BatchInProgress {
  readonly channel: number;
  readonly seq: number;
  readonly message: ChannelMessage;
  readonly noCredit?: boolean;
  index: number;
}

/**
 * Processes what its input channels deliver, in arrival order, batch by batch, in time slices.
 * Barriers: see {@link InputBarriers}; the end of every channel ends the input.
 *
 * @example
 * ```ts
 * const task = new InputTask(plannedTask, 0, graph.nodes, host, 2);
 * connectInboundPort(port, task.gate, 0);
 * await task.open(edges);
 * task.start();
 * ```
 */
export class InputTask extends StreamTask {
  readonly gate: InputGate;
  private readonly barriers: InputBarriers;
  /** Continuous spilling: every input batch is persisted as it arrives; channel state refers to it. */
  private readonly inFlightLog: InFlightLog | undefined;
  private readonly head: StreamOperator;
  /** Set only for a two-input head: input channel → 0 or 1. */
  private readonly channelInputs: Uint8Array | undefined;
  private readonly sliceMs: number;
  /** A batch whose records are partly processed (the drain's time slice ran out). */
  private inProgress: BatchInProgress | undefined;

  constructor(
    task: PlannedTask,
    subtaskIndex: number,
    nodes: readonly GraphNode[],
    host: SubtaskHost,
    inputChannelCount: number,
    /** Per input channel, which input of the head it feeds (0, or 1 for a two-input operator's second). */
    channelInputs: readonly number[] = [],
  ) {
    super(task, subtaskIndex, nodes, host);
    this.head = this.chain.operators[0];
    this.sliceMs = host.drainSliceMs ?? DRAIN_SLICE_MS;
    // Only a two-input head tells its inputs apart; a union's several inputs all feed processElement.
    const twoInput = typeof this.head.processElement2 === 'function';
    this.channelInputs = twoInput && channelInputs.some((i) => i !== 0) ? Uint8Array.from(channelInputs) : undefined;
    this.inFlightLog = host.createInFlightLog?.(this);
    const barriers = new InputBarriers(inputChannelCount, { mode: host.checkpointMode ?? 'aligned', alignedTimeoutMs: host.alignedTimeoutMs }, {
      block: (channel) => this.gate.block(channel),
      releaseAll: () => this.gate.unblockAll(),
      takeAligned: (id, alignmentMs, barrierAt) => this.performCheckpoint(id, { alignmentMs, barrierAt }),
      takeUnaligned: (id, alignmentMs, barrierAt, cutoffs) => this.takeUnaligned(id, alignmentMs, barrierAt, cutoffs),
      isRunning: () => this.state === 'running',
      fail: (error) => this.fail(error),
    });
    this.barriers = barriers;
    const log = this.inFlightLog;
    this.gate = new InputGate(inputChannelCount, () => this.wakeUp(Wake.INPUT), {
      // Also in aligned mode: an upstream task whose alignment timed out sends unaligned barriers.
      onPriorityBarrier: (channel, id, at) => {
        if (this.state === 'running') barriers.priorityBarrier(channel, id, at);
      },
      onBarrierQueued: (channel, id, at, seq) => barriers.barrierQueued(channel, id, at, seq),
      onArrival: (channel, seq, batch) => barriers.arrival(channel, seq, batch),
      ...(log ? { onQueued: (channel, seq, message, wire) => log.append(channel, seq, message, wire) } : {}),
    });
  }

  protected override startLoop(): void {
    if (this.gate.channelCount === 0) {
      this.finishInput().catch((error) => this.fail(error));
      return;
    }
    // A microtask later, as every wake-up: the worker starts all its tasks before any processes input.
    this.loopDue = true;
    queueMicrotask(() => super.startLoop());
  }

  protected processInput(): LoopStep {
    const gate = this.gate;
    const deadline = performance.now() + this.sliceMs;
    while (this.state === 'running') {
      if (this.held) {
        // An operator stopped taking input (e.g. asyncMap at capacity): its resumeInput wakes the loop.
        this.output.flush();
        return this.waitFor(INPUT_WAKE);
      }
      if (!this.output.available()) {
        this.output.markBlocked();
        return this.waitFor(INPUT_WAKE);
      }
      if (performance.now() > deadline) {
        // Let the event loop in: control commands, barriers, credits and timers must not wait
        // until a slow operator has worked through its whole queue.
        this.loopDue = true;
        return yieldToEventLoop();
      }
      let current = this.inProgress;
      if (current === undefined) {
        const next = gate.poll();
        if (next === undefined) {
          this.output.flush();
          return this.waitFor(INPUT_WAKE);
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
    return undefined;
  }

  /** Processes the records of a batch from `index`; false when the time slice ran out first. */
  private processRecords(current: BatchInProgress, deadline: number): boolean {
    const values = current.message.values;
    if (values === null) return true;
    const head = this.head;
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
    this.chain.endOfBatch();
    return true;
  }

  /** What follows a batch's records: its watermark, barrier and end marker. */
  private processControl(channel: number, message: ChannelMessage): void {
    const head = this.head;
    const gate = this.gate;
    if (message.watermark !== undefined) {
      const combined = gate.advanceWatermark(channel, message.watermark);
      if (combined !== undefined) head.processWatermark(combined);
    }
    if (message.barrier !== undefined) this.barriers.barrier(channel, message.barrier, message.barrierAt);
    if (!message.end) return;
    if (gate.markEnded(channel)) {
      this.barriers.channelEnded(channel);
      this.state = 'finishing';
      this.finishInput().catch((error) => this.fail(error));
      return;
    }
    const combined = gate.watermarkAfterEnd();
    if (combined !== undefined) head.processWatermark(combined);
    // An ended channel no longer owes the barrier being aligned, nor in-flight data.
    this.barriers.channelEnded(channel);
  }

  /**
   * Takes checkpoint n unaligned now (the barrier handler's decision): the snapshot at once and a
   * priority barrier downstream. Its input channel state begins with what is queued and is channel
   * state under `cutoffs` (see planUnalignedSwitch), the unprocessed rest of a partly processed
   * batch first; the barrier handler adds what owing channels deliver until their barrier n.
   */
  private takeUnaligned(checkpointId: number, alignmentMs: number, barrierAt: number, cutoffs: readonly number[]): InFlightRecording {
    const gate = this.gate;
    const log = this.inFlightLog;
    let input: InFlightInput[];
    let floorSeq: number | undefined;
    const partial = this.inProgress;
    const rest = partial?.message.values && partial.index < partial.message.values.length && isChannelState(cutoffs, partial.channel, partial.seq) ? partial : undefined;
    if (log) {
      // Everything queued is already in the log: refer to it by arrival number.
      const queued = gate.queuedEntries();
      input = selectChannelState(queued, cutoffs).map((q) => ({ channel: q.channel, seq: q.seq, from: 0 }));
      if (rest) input.unshift({ channel: rest.channel, seq: rest.seq, from: rest.index });
      // A later checkpoint may still refer to anything queued, channel state of this one or not.
      floorSeq = partial?.seq ?? gate.nextSeq;
      for (const q of queued) if (q.seq < floorSeq) floorSeq = q.seq;
      log.hold(checkpointId, floorSeq);
    } else {
      input = gate.queuedBatches((channel, seq) => isChannelState(cutoffs, channel, seq));
      // The unprocessed rest of a partly processed batch precedes the barrier too.
      if (rest) {
        const ts = rest.message.timestamps;
        input.unshift({
          channel: rest.channel,
          batch: { values: rest.message.values!.slice(rest.index), timestamps: ts ? Array.from(ts).slice(rest.index) : null },
        });
      }
    }
    const recording = new InFlightRecording(checkpointId, input, floorSeq);
    this.performCheckpoint(checkpointId, { recording, unaligned: true, alignmentMs, barrierAt });
    return recording;
  }

  protected inputQuiet(): boolean {
    if (this.loopDue || this.inProgress !== undefined) return false;
    return this.gate.queued === 0;
  }

  protected override inputQueued(): boolean {
    return this.gate.queued > 0;
  }

  protected override onAbort(checkpointId: number): void {
    this.barriers.abort(checkpointId);
  }

  protected override onRelease(): void {
    this.barriers.dispose();
  }

  override expectChannelState(): void {
    this.gate.awaitRecoveredInput();
  }

  protected override restoreInput(input: RestoredChannelState['input']): void {
    this.gate.installRecoveredInput(input);
  }
}
