// Message types and constants shared by the thread-pair reference and its two worker threads.
import type { MessagePort } from 'node:worker_threads';

/** Records per msgpack-encoded batch. */
export const BATCH_SIZE = 1024;
/** Max batches in flight from producer to consumer (credit-based flow control). */
export const MAX_IN_FLIGHT = 4;

/** workerData of both workers: the .ts module to load and their end of the producer<->consumer MessageChannel. */
export interface PairWorkerData {
  entry: string;
  port: MessagePort;
}

/** main -> producer: generate records 0..n-1. */
export interface RunMessage {
  type: 'run';
  n: number;
}

/** producer -> consumer (over the channel, before the batches): a new run of n records starts. */
export interface StartMessage {
  type: 'start';
  n: number;
}

/** Messages from a worker to main. */
export type WorkerToMain = { type: 'ready' } | { type: 'done'; checksum: number; records: number };
