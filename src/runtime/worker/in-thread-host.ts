// Runs a job's workers in the calling thread (baton/testing): the real sessions, subtasks, state and checkpoints, no threads.
import type { WorkerHost, WorkerHostFactory, WorkerLaunch } from '../coordinator/worker-host.ts';
import type { ProcessingTimeService } from '../time/processing-time-service.ts';
import type { JobGraph } from '../types.ts';
import { InThreadChannels } from './in-thread-channels.ts';
import type { WorkerResult } from './protocol.ts';
import { type InThreadWorker, runWorkerInThread } from './worker-entry.ts';

/** Stands where a thread's payload names its job module: in this thread the graph is handed over as is. */
const IN_THREAD_MODULE = 'baton:in-thread';

/**
 * One attempt's workers, each a worker session of its own (as on threads: worker i hosts subtask i
 * of every task), sharing this thread. Channels between them are direct calls; control messages
 * still travel over MessagePorts, so the coordinator drives them exactly as it drives threads.
 */
export class InThreadHost implements WorkerHost {
  readonly sharesThread = true;
  readonly liveThreads = 0;
  private readonly sessions: InThreadWorker[] = [];
  private readonly channels = new InThreadChannels();

  /**
   * `buildGraph`: builds the job's graph for one worker. Each worker builds its own, as each thread
   * does: user functions are objects with fields (state handles set in `open`), one per subtask.
   */
  constructor(
    private readonly buildGraph: () => JobGraph,
    private readonly processingTime?: ProcessingTimeService,
  ) {}

  run(launch: WorkerLaunch): Promise<WorkerResult> {
    return runWorkerInThread(
      { ...launch, moduleUrl: IN_THREAD_MODULE },
      { buildGraph: this.buildGraph, channels: this.channels, processingTime: this.processingTime, register: (session) => this.sessions.push(session) },
    );
  }

  /** The sessions built so far, by worker index order of construction. */
  get workers(): readonly InThreadWorker[] {
    return this.sessions;
  }

  /** Nothing is queued, in progress or unsent anywhere, and every source waits for input (and, with `awaitAsync`, no asyncMap request is in flight). */
  isQuiet(awaitAsync = true): boolean {
    return this.channels.undelivered === 0 && this.sessions.every((s) => s.isQuiet(awaitAsync));
  }

  async destroy(): Promise<void> {}
}

/** A factory for runJob's workers that runs each attempt in this thread; `onAttempt` sees each attempt's host. */
export function inThreadWorkers(buildGraph: () => JobGraph, onAttempt: (host: InThreadHost) => void, processingTime?: ProcessingTimeService): WorkerHostFactory {
  return () => {
    const host = new InThreadHost(buildGraph, processingTime);
    onAttempt(host);
    return host;
  };
}
