// Where a job's workers run: piscina's threads (every job), or the caller's own thread (baton/testing).
import type { MessagePort } from 'node:worker_threads';
import type { WorkerPayload, WorkerResult } from '../worker/protocol.ts';

/** One worker's payload before the host adds where its job module is (threads import it; in-thread hosts have the graph). */
export type WorkerLaunch = Omit<WorkerPayload, 'moduleUrl'>;

export interface WorkerHost {
  /**
   * The workers share one thread: channels between them are direct calls, so the attempt creates
   * no MessagePorts for them.
   */
  readonly sharesThread: boolean;
  /** Runs one worker until it ends. `transfer`: its control port and channel ports. */
  run(launch: WorkerLaunch, transfer: readonly MessagePort[]): Promise<WorkerResult>;
  /** Threads still alive (0 for an in-thread host). */
  readonly liveThreads: number;
  destroy(): Promise<void>;
}

/** Creates the host of one attempt's `size` workers. */
export type WorkerHostFactory = (size: number) => WorkerHost;
