// Consumer end of a subtask's input channels: one arrival-ordered queue, per-channel watermarks and end markers.
import { MIN_WATERMARK } from '../types.ts';
import { BatchDecoder, type WireMessage } from './batch-codec.ts';
import type { ChannelMessage } from './types.ts';

interface QueueEntry {
  channel: number;
  /** Arrival number at this gate (continuous spilling refers to batches by it). */
  seq: number;
  message: ChannelMessage | undefined;
  wire: WireMessage | undefined;
  /** Replayed channel state: its producer never spent a credit on it. */
  noCredit?: boolean;
}

/** What the consuming task hears of its input besides data, each as it happens (all optional). */
export interface InputGateEvents {
  /** Unaligned checkpoints: priority barriers skip the queue and go straight here (`at`: when the checkpoint was triggered). */
  readonly onPriorityBarrier?: (channel: number, checkpointId: number, at: number | undefined) => void;
  /**
   * An aligned barrier was queued (at arrival, not when processed), after its message: `seq` is
   * the arrival number of the message carrying it, `at` when the checkpoint was triggered.
   */
  readonly onBarrierQueued?: (channel: number, checkpointId: number, at: number | undefined, seq: number) => void;
  /** Unaligned checkpoints: sees every batch as it arrives, to record in-flight data. */
  readonly onArrival?: (channel: number, seq: number, batch: () => RecordedBatch | undefined) => void;
  /** Continuous spilling: sees every queued message (replayed channel state too), before anything else. */
  readonly onQueued?: (channel: number, seq: number, message: ChannelMessage | undefined, wire: WireMessage | undefined) => void;
}

/** Batches as channel state stores them: records only (watermarks are regenerated after a restore). */
export interface RecordedBatch {
  readonly values: unknown[];
  readonly timestamps: number[] | null;
}

export class InputGate {
  private queue: QueueEntry[] = [];
  private head = 0;
  private readonly watermarks: Float64Array;
  private readonly ended: Uint8Array;
  private endedCount = 0;
  private combined = MIN_WATERMARK;
  private readonly creditReturners: Array<() => void>;
  private decoder: BatchDecoder | undefined;
  // Aligned checkpoints: channels that delivered the current barrier are blocked; what they send
  // meanwhile waits here, in order, until the barrier has been delivered on every channel.
  private readonly blocked: Uint8Array;
  private readonly held: QueueEntry[][];
  private seq = 0;
  /**
   * Restore of an unaligned checkpoint: this gate's recovered input is still being read. What
   * arrives meanwhile (upstream's recovered output, replayed by its own restore, on the same
   * channels) came later in each channel's order, so it waits here until the recovered input is
   * installed. undefined: nothing pending (the per-message cost is this one check).
   */
  private deferred: Array<{ channel: number; message: ChannelMessage | undefined; wire: WireMessage | undefined }> | undefined;

  private readonly onPriorityBarrier: InputGateEvents['onPriorityBarrier'];
  private readonly onBarrierQueued: InputGateEvents['onBarrierQueued'];
  private readonly onArrival: InputGateEvents['onArrival'];
  private readonly onQueued: InputGateEvents['onQueued'];

  constructor(
    readonly channelCount: number,
    /** Called whenever a message arrives: the task schedules its input processing. */
    private readonly onData: () => void,
    events: InputGateEvents = {},
  ) {
    this.onPriorityBarrier = events.onPriorityBarrier;
    this.onBarrierQueued = events.onBarrierQueued;
    this.onArrival = events.onArrival;
    this.onQueued = events.onQueued;
    this.watermarks = new Float64Array(channelCount).fill(MIN_WATERMARK);
    this.ended = new Uint8Array(channelCount);
    this.creditReturners = new Array(channelCount);
    this.blocked = new Uint8Array(channelCount);
    this.held = Array.from({ length: channelCount }, () => []);
  }

  /** Registers how a processed message's credit goes back to the producer of `channel`. */
  connect(channel: number, returnCredit: () => void): void {
    this.creditReturners[channel] = returnCredit;
  }

  pushMessage(channel: number, message: ChannelMessage): void {
    if (this.deferred !== undefined) {
      this.deferred.push({ channel, message, wire: undefined });
      return;
    }
    if (message.priority && message.barrier !== undefined) {
      this.onPriorityBarrier?.(channel, message.barrier, message.barrierAt);
      return;
    }
    const seq = this.seq++;
    this.onQueued?.(channel, seq, message, undefined);
    this.onArrival?.(channel, seq, () => recorded(message));
    this.queue.push({ channel, seq, message, wire: undefined });
    if (message.barrier !== undefined) this.onBarrierQueued?.(channel, message.barrier, message.barrierAt, seq);
    this.onData();
  }

  pushWire(channel: number, wire: WireMessage): void {
    if (this.deferred !== undefined) {
      this.deferred.push({ channel, message: undefined, wire });
      return;
    }
    if (wire.p === 1 && wire.k !== undefined) {
      this.onPriorityBarrier?.(channel, wire.k, wire.a);
      return;
    }
    const seq = this.seq++;
    this.onQueued?.(channel, seq, undefined, wire);
    this.onArrival?.(channel, seq, () => recorded(this.decode(wire)));
    this.queue.push({ channel, seq, message: undefined, wire });
    if (wire.k !== undefined) this.onBarrierQueued?.(channel, wire.k, wire.a, seq);
    this.onData();
  }

  /**
   * Restore, before anything can reach this gate (decided synchronously from the restore plan):
   * recovered input is coming, and every arrival waits behind it until {@link installRecoveredInput}.
   */
  awaitRecoveredInput(): void {
    this.deferred ??= [];
  }

  /**
   * Restore: queues the recovered input (the checkpoint's channel state, in its order) ahead of
   * everything that arrived since {@link awaitRecoveredInput}, which follows in arrival order.
   * Per channel, this is the order the producer sent: what the consumer had received but not
   * processed at the checkpoint, then what the producer had not sent yet, then new output.
   *
   * @example
   * ```ts
   * gate.awaitRecoveredInput();
   * // ... upstream replays its recovered output: gate.pushMessage(0, later) waits ...
   * gate.installRecoveredInput([{ channel: 0, batch: earlier }]); // polls `earlier`, then `later`
   * ```
   */
  installRecoveredInput(input: ReadonlyArray<{ readonly channel: number; readonly batch: RecordedBatch }>): void {
    for (const { channel, batch } of input) this.replay(channel, batch);
    const deferred = this.deferred;
    this.deferred = undefined;
    if (deferred === undefined) return;
    for (const d of deferred) {
      if (d.wire !== undefined) this.pushWire(d.channel, d.wire);
      else this.pushMessage(d.channel, d.message!);
    }
  }

  /** Recovered input returns no credit: its producer never spent one on it (in this run). */
  private replay(channel: number, batch: RecordedBatch): void {
    const message: ChannelMessage = { values: batch.values, timestamps: batch.timestamps };
    const seq = this.seq++;
    this.onQueued?.(channel, seq, message, undefined);
    this.queue.push({ channel, seq, message, wire: undefined, noCredit: true });
    this.onData();
  }

  /** The arrival number the next message will get. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Every message queued and not yet processed (held ones included), by arrival number, without decoding. */
  queuedEntries(): Array<{ channel: number; seq: number }> {
    const out: Array<{ channel: number; seq: number }> = [];
    for (const held of this.held) for (const entry of held) out.push({ channel: entry.channel, seq: entry.seq });
    for (let i = this.head; i < this.queue.length; i++) out.push({ channel: this.queue[i].channel, seq: this.queue[i].seq });
    return out;
  }

  /**
   * Copies of every batch queued and not yet processed (held ones included), per channel; with
   * `include`, only of the entries it accepts (the others are not decoded).
   */
  queuedBatches(include?: (channel: number, seq: number) => boolean): Array<{ channel: number; batch: RecordedBatch }> {
    const out: Array<{ channel: number; batch: RecordedBatch }> = [];
    const add = (entry: QueueEntry) => {
      if (include && !include(entry.channel, entry.seq)) return;
      const batch = recorded(entry.message ?? this.decode(entry.wire!));
      if (batch) out.push({ channel: entry.channel, batch });
    };
    for (const held of this.held) for (const entry of held) add(entry);
    for (let i = this.head; i < this.queue.length; i++) add(this.queue[i]);
    return out;
  }

  private decode(wire: WireMessage): ChannelMessage {
    this.decoder ??= new BatchDecoder();
    return this.decoder.decode(wire);
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Next message in arrival order (decoded) from a channel that is not blocked, or undefined. */
  poll(): { channel: number; seq: number; message: ChannelMessage; noCredit?: boolean } | undefined {
    let entry: QueueEntry;
    for (;;) {
      if (this.head >= this.queue.length) return undefined;
      entry = this.queue[this.head++];
      if (this.blocked[entry.channel] === 0) break;
      this.held[entry.channel].push(entry);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (entry.message) return { channel: entry.channel, seq: entry.seq, message: entry.message, noCredit: entry.noCredit };
    return { channel: entry.channel, seq: entry.seq, message: this.decode(entry.wire!) };
  }

  /** Holds back `channel` until {@link unblockAll}: it delivered the barrier being aligned. */
  block(channel: number): void {
    this.blocked[channel] = 1;
  }

  isEnded(channel: number): boolean {
    return this.ended[channel] === 1;
  }

  /** Releases every blocked channel; held messages go first, in their order. */
  unblockAll(): void {
    const released: QueueEntry[] = [];
    for (let c = 0; c < this.channelCount; c++) {
      this.blocked[c] = 0;
      if (this.held[c].length > 0) {
        released.push(...this.held[c]);
        this.held[c] = [];
      }
    }
    if (released.length === 0) return;
    this.queue = [...released, ...this.queue.slice(this.head)];
    this.head = 0;
    this.onData();
  }

  /** The message from `channel` has been processed: give its producer the credit back. */
  acknowledge(channel: number): void {
    this.creditReturners[channel]?.();
  }

  /** Records a channel's watermark; returns the new minimum over live channels if it advanced. */
  advanceWatermark(channel: number, watermark: number): number | undefined {
    if (watermark <= this.watermarks[channel]) return undefined;
    this.watermarks[channel] = watermark;
    return this.recomputeCombined();
  }

  /** Marks a channel ended; true once every channel has. */
  markEnded(channel: number): boolean {
    if (this.ended[channel] === 0) {
      this.ended[channel] = 1;
      this.endedCount++;
    }
    return this.endedCount === this.channelCount;
  }

  /** Also the watermark after an ended channel stops holding the minimum back. */
  watermarkAfterEnd(): number | undefined {
    return this.recomputeCombined();
  }

  private recomputeCombined(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let live = 0;
    for (let i = 0; i < this.channelCount; i++) {
      if (this.ended[i] === 1) continue;
      live++;
      if (this.watermarks[i] < min) min = this.watermarks[i];
    }
    if (live === 0) return undefined;
    if (min > this.combined) {
      this.combined = min;
      return min;
    }
    return undefined;
  }
}

function recorded(message: ChannelMessage): RecordedBatch | undefined {
  if (message.values === null || message.values.length === 0) return undefined;
  return { values: [...message.values], timestamps: message.timestamps ? Array.from(message.timestamps) : null };
}
