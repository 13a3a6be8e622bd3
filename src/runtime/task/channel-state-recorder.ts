// In-flight data of one unaligned checkpoint at one subtask: recorded until every input channel delivered its barrier.
import type { RecordedBatch } from '../channels/input-gate.ts';

/** In-flight data of an unaligned checkpoint: overtaken input per channel, unsent output per writer. */
export interface ChannelStateData {
  readonly input: ReadonlyArray<{ readonly channel: number; readonly batch: RecordedBatch }>;
  readonly output: ReadonlyArray<readonly RecordedBatch[]>;
}

export class ChannelStateRecording {
  private readonly pending: Set<number>;
  private readonly input: Array<{ channel: number; batch: RecordedBatch }>;
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
    queued: Array<{ channel: number; batch: RecordedBatch }>,
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
  onArrival(channel: number, batch: () => RecordedBatch | undefined): void {
    if (!this.pending.has(channel)) return;
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
    this.resolve({ input: this.input, output: this.output });
    return true;
  }
}
