// The piscina pool that hosts a job's subtasks: one long-lived task per worker thread.
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { WorkerPayload, WorkerResult } from '../worker/protocol.ts';

const WORKER_ENTRY = new URL('../worker/worker-bootstrap.mjs', import.meta.url).href;

export class WorkerPool {
  private readonly pool: Piscina<WorkerPayload, WorkerResult>;
  private readonly threads = new Set<Worker>();
  private readonly exited = new Set<Worker>();

  constructor(readonly size: number) {
    this.pool = new Piscina<WorkerPayload, WorkerResult>({
      filename: WORKER_ENTRY,
      minThreads: size,
      maxThreads: size,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Subtasks live for the whole job and talk over ports: keep every worker's event loop free.
      atomics: 'disabled',
    });
  }

  run(payload: WorkerPayload, transferList: WorkerPayload['ports'][number]['port'][]): Promise<WorkerResult> {
    const result = this.pool.run(payload, { transferList: [payload.control, ...transferList] });
    this.trackThreads();
    return result;
  }

  /** Remembers every thread the pool created, so tests can check none outlives the job. */
  trackThreads(): void {
    for (const worker of this.pool.threads) {
      if (this.threads.has(worker)) continue;
      this.threads.add(worker);
      worker.once('exit', () => this.exited.add(worker));
    }
  }

  get liveThreads(): number {
    this.trackThreads();
    return this.threads.size - this.exited.size;
  }

  get createdThreads(): number {
    return this.threads.size;
  }

  async destroy(): Promise<void> {
    this.trackThreads();
    await this.pool.destroy();
    // destroy() resolves once termination is requested; wait for every thread's exit event.
    await Promise.all(
      [...this.threads].filter((w) => !this.exited.has(w)).map((w) => new Promise<void>((resolve) => {
        if (this.exited.has(w)) resolve();
        else w.once('exit', () => resolve());
      })),
    );
  }
}
