// Continuous spilling: what a subtask's input gate hands to the log that persists every batch as it arrives.
import type { WireMessage } from '../channels/batch-codec.ts';
import type { ChannelMessage } from '../channels/types.ts';

/**
 * Persists every batch queued at a subtask's input as it arrives, so an unaligned checkpoint
 * only refers to batches already written (or about to be: completion flushes the open segment).
 */
export interface InFlightLog {
  /** A message was queued at the input (`seq` is its arrival number); batches without records are skipped. */
  append(channel: number, seq: number, message: ChannelMessage | undefined, wire: WireMessage | undefined): void;
  /** Checkpoint n refers to batches from `floorSeq` on: none of them may be pruned until it is written. */
  hold(checkpointId: number, floorSeq: number): void;
}
