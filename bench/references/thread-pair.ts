// Reference: hand-written two-worker pipeline (A: generate+map+msgpack batches, B: decode+key+count) — the ceiling baton is compared against.
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { PairWorkerData, RunMessage, WorkerToMain } from './thread-pair-protocol.ts';

interface Pending {
  n: number;
  resolve: (checksum: number) => void;
  reject: (err: Error) => void;
}

/** Bootstrap that registers tsx inside the worker and then imports workerData.entry (a .ts module). */
const TS_WORKER = new URL('./ts-worker.mjs', import.meta.url);

function spawn(file: string, port: MessagePort): Worker {
  const data: PairWorkerData = { entry: new URL(file, import.meta.url).href, port };
  // execArgv: [] so the worker does not inherit the parent's loader flags; ts-worker.mjs registers tsx itself.
  return new Worker(TS_WORKER, { workerData: data, transferList: [port], execArgv: [] });
}

function waitReady(worker: Worker, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: WorkerToMain): void => {
      if (msg.type !== 'ready') return;
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new Error(`thread-pair ${name} failed to start: ${err.message}`, { cause: err }));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`thread-pair ${name} exited with code ${code} during startup`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Two long-lived workers connected by a MessageChannel; start once, run many times, close at the end. */
export class ThreadPair {
  private pending: Pending | undefined;
  private closed = false;

  private constructor(
    private readonly producer: Worker,
    private readonly consumer: Worker,
  ) {
    consumer.on('message', (msg: WorkerToMain) => {
      if (msg.type !== 'done') return;
      const pending = this.pending;
      this.pending = undefined;
      if (pending === undefined) return;
      if (msg.records !== pending.n) {
        pending.reject(new Error(`thread-pair consumer processed ${msg.records} records, expected ${pending.n}`));
      } else {
        pending.resolve(msg.checksum);
      }
    });
    for (const [name, worker] of [
      ['producer', producer],
      ['consumer', consumer],
    ] as const) {
      worker.on('error', (err: Error) => this.fail(new Error(`thread-pair ${name} error: ${err.message}`, { cause: err })));
      worker.on('exit', (code: number) => {
        if (!this.closed) this.fail(new Error(`thread-pair ${name} exited unexpectedly with code ${code}`));
      });
    }
  }

  /** Spawn both workers and wait until their modules are loaded (outside any timed section). */
  static async start(): Promise<ThreadPair> {
    const channel = new MessageChannel();
    const producer = spawn('./thread-pair-producer.ts', channel.port1);
    const consumer = spawn('./thread-pair-consumer.ts', channel.port2);
    try {
      await Promise.all([waitReady(producer, 'producer'), waitReady(consumer, 'consumer')]);
    } catch (err) {
      await Promise.all([producer.terminate(), consumer.terminate()]);
      throw err;
    }
    return new ThreadPair(producer, consumer);
  }

  /** Process records 0..n-1; resolves with the checksum once worker B has processed all of them. */
  run(n: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error('thread-pair is closed'));
    if (this.pending !== undefined) return Promise.reject(new Error('thread-pair run already in progress'));
    return new Promise((resolve, reject) => {
      this.pending = { n, resolve, reject };
      const msg: RunMessage = { type: 'run', n };
      this.producer.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.producer.terminate(), this.consumer.terminate()]);
  }

  private fail(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }
}
