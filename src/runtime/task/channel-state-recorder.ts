// In-flight data of one unaligned checkpoint at one subtask: recorded until every input channel delivered its barrier.
import type { RecordedBatch } from '../channels/input-gate.ts';

/**
 * One overtaken input batch: a copy of its records, or (continuous spilling) a reference to the
 * batch with arrival number `seq` in the subtask's in-flight log, from record `from` on.
 */
export type InFlightInput =
  | { readonly channel: number; readonly batch: RecordedBatch }
  | { readonly channel: number; readonly seq: number; readonly from: number };

/** In-flight data of an unaligned checkpoint: overtaken input per channel, unsent output per writer. */
export interface ChannelStateData {
  readonly input: readonly InFlightInput[];
  readonly output: ReadonlyArray<readonly RecordedBatch[]>;
  /** Continuous spilling: no later checkpoint refers to a batch that arrived before this one. */
  readonly floorSeq?: number;
}

export class ChannelStateRecording {
  private readonly pending: Set<number>;
  private readonly input: InFlightInput[];
  private output: RecordedBatch[][] = [];
  private resolve!: (data: ChannelStateData) => void;
  private finished = false;
  /** Settles once every channel that owed the barrier has delivered it (or ended). */
  readonly done: Promise<ChannelStateData>;

  constructor(
    readonly checkpointId: number,
    /** Input channels that still owe barrier n. */
    pending: Iterable<number>,
    /** What was queued, unprocessed, when the checkpoint was taken. */
    queued: InFlightInput[],
    /** Record arrivals by reference to the in-flight log (continuous spilling) instead of copying them. */
    private readonly floorSeq?: number,
  ) {
    this.pending = new Set(pending);
    this.input = queued;
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** The batches the outgoing barrier overtook, per writer. */
  setOutput(output: RecordedBatch[][]): void {
    this.output = output;
  }

  /** A batch arrived: it is channel state if its channel still owes the barrier. */
  onArrival(channel: number, seq: number, batch: () => RecordedBatch | undefined): void {
    if (!this.pending.has(channel)) return;
    if (this.floorSeq !== undefined) {
      this.input.push({ channel, seq, from: 0 });
      return;
    }
    const recorded = batch();
    if (recorded) this.input.push({ channel, batch: recorded });
  }

  /** `channel` delivered barrier n or ended; true once nothing is owed any more. */
  channelDone(channel: number): boolean {
    this.pending.delete(channel);
    return this.finishIfComplete();
  }

  finishIfComplete(): boolean {
    if (this.finished) return true;
    if (this.pending.size > 0) return false;
    this.finished = true;
    this.resolve(this.floorSeq === undefined ? { input: this.input, output: this.output } : { input: this.input, output: this.output, floorSeq: this.floorSeq });
    return true;
  }
}
