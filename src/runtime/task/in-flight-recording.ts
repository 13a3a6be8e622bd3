// In-flight data of one unaligned checkpoint at one input task: what it overtook, collected until the barrier handler says it is complete.
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

/**
 * The channel state of checkpoint n as it is collected. Which batches belong to it and when it is
 * complete is the barrier handler's decision (barrier-handler.ts); this only keeps the data.
 *
 * @example
 * ```ts
 * const r = new InFlightRecording(7, [{ channel: 0, batch: queued }]);
 * r.setOutput(overtakenOutput);
 * r.add(1, 12, () => arrived); // a `record` effect
 * r.complete(); // `recording-complete`: r.done resolves
 * ```
 */
export class InFlightRecording {
  private output: RecordedBatch[][] = [];
  private resolve!: (data: ChannelStateData) => void;
  /** Settles once every channel that owed the barrier has delivered it (or ended). */
  readonly done: Promise<ChannelStateData>;

  constructor(
    readonly checkpointId: number,
    /** What was queued, unprocessed, when the checkpoint was taken. */
    private readonly input: InFlightInput[],
    /** Record arrivals by reference to the in-flight log (continuous spilling) instead of copying them. */
    private readonly floorSeq?: number,
  ) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** The batches the outgoing barrier overtook, per writer. */
  setOutput(output: RecordedBatch[][]): void {
    this.output = output;
  }

  /** A batch that arrived on a channel still owing the barrier: `batch` copies it (called only without a log). */
  add(channel: number, seq: number, batch: () => RecordedBatch | undefined): void {
    if (this.floorSeq !== undefined) {
      this.input.push({ channel, seq, from: 0 });
      return;
    }
    const recorded = batch();
    if (recorded) this.input.push({ channel, batch: recorded });
  }

  complete(): void {
    this.resolve(this.floorSeq === undefined ? { input: this.input, output: this.output } : { input: this.input, output: this.output, floorSeq: this.floorSeq });
  }
}
