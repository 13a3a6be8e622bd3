// The piscina pool that hosts a job's subtasks: one long-lived task per worker thread.
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { RUNTIME_LOADED_CHANNEL } from '../worker/runtime-loaded.ts';
import type { WorkerCode } from '../code/index.ts';
import type { WorkerPayload, WorkerResult } from '../worker/protocol.ts';
import type { WorkerHost, WorkerHostFactory, WorkerLaunch } from './worker-host.ts';

/** Workers on piscina threads, running the compiled runtime and the job's bundle. */
export function threadWorkers(code: WorkerCode): WorkerHostFactory {
  return (size) => new WorkerPool(size, code);
}

export class WorkerPool implements WorkerHost {
  readonly sharesThread = false;
  private readonly pool: Piscina<WorkerPayload, WorkerResult>;
  private readonly threads = new Set<Worker>();
  private readonly exited = new Set<Worker>();
  /** Thread ids whose runtime (and with it lmdb's native addon) finished loading. */
  private readonly loaded = new Set<number>();
  private readonly loadWaiters = new Map<number, () => void>();
  private readonly announcements = new BroadcastChannel(RUNTIME_LOADED_CHANNEL);

  /** `code.workerUrl`: the compiled runtime's worker entry (see runtimeBuild); `code.jobModule`: the job's bundle. */
  constructor(
    readonly size: number,
    private readonly code: WorkerCode,
  ) {
    // Listening before the first thread exists, so no announcement can be missed.
    this.announcements.onmessage = (event) => {
      const threadId = (event as { data?: unknown }).data;
      if (typeof threadId !== 'number') return;
      this.loaded.add(threadId);
      this.loadWaiters.get(threadId)?.();
    };
    this.announcements.unref();
    this.pool = new Piscina<WorkerPayload, WorkerResult>({
      filename: code.workerUrl,
      // The worker threads run compiled JavaScript: a TypeScript loader the main thread was started
      // with (`--import tsx`) would only cost every thread its start-up (and fail from another cwd).
      execArgv: workerExecArgv(),
      minThreads: size,
      maxThreads: size,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Subtasks live for the whole job and talk over ports: keep every worker's event loop free.
      atomics: 'disabled',
    });
  }

  /** The threads start loading the runtime at once; the job's bundle is handed over once compiled. */
  async run(launch: WorkerLaunch, transferList: readonly WorkerPayload['ports'][number]['port'][]): Promise<WorkerResult> {
    const moduleUrl = await this.code.jobModule;
    const result = this.pool.run({ ...launch, moduleUrl }, { transferList: [launch.control, ...transferList] });
    this.trackThreads();
    return result;
  }

  private loadedOrExited(worker: Worker): Promise<void> {
    if (this.exited.has(worker) || this.loaded.has(worker.threadId)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.loadWaiters.delete(worker.threadId);
        resolve();
      };
      this.loadWaiters.set(worker.threadId, done);
      worker.once('exit', done);
    });
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

  /** Threads that announced their runtime loaded (see destroy). */
  get loadedThreads(): number {
    return this.loaded.size;
  }

  get createdThreads(): number {
    return this.threads.size;
  }

  async destroy(): Promise<void> {
    this.trackThreads();
    // Terminating a thread while it loads a native addon (lmdb's, imported by the runtime) can abort
    // the whole process from inside the addon's initialization: a job that fails at start-up
    // destroys its pool while threads are still loading. So each thread is terminated only after
    // it announced that its runtime is loaded, or after it exited by itself.
    await Promise.all([...this.threads].map((w) => this.loadedOrExited(w)));
    this.announcements.close();
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

let cachedExecArgv: { value: string[] | undefined } | undefined;

/**
 * Worker threads inherit the process's flags unless told otherwise; told otherwise only to drop a
 * TypeScript loader. An explicit list must leave out flags that only a process can take (Node
 * refuses e.g. `--openssl-legacy-provider` there; they apply to the whole process anyway): each
 * refused one is named in Node's error, so they are found by trying, once per process.
 */
export function workerExecArgv(): string[] | undefined {
  if (cachedExecArgv) return cachedExecArgv.value;
  let argv = withoutTypeScriptLoaders(process.execArgv);
  if (argv.length === process.execArgv.length) {
    cachedExecArgv = { value: undefined };
    return undefined;
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      // Checked when the thread is created; the thread itself has nothing to do.
      void new Worker('', { eval: true, execArgv: argv }).terminate();
      break;
    } catch (error) {
      const refused = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? /flags: (.*)$/.exec((error as Error).message)?.[1]?.split(/,\s*/) : undefined;
      if (!refused || refused.length === 0) throw error;
      argv = argv.filter((arg) => !refused.includes(arg.split('=')[0]) && !refused.includes(arg));
    }
  }
  cachedExecArgv = { value: argv };
  return argv;
}

/** `execArgv` without tsx's loader flags (`--import tsx`, `--import=tsx/esm`, `--require tsx/cjs`, `--loader tsx`). */
export function withoutTypeScriptLoaders(execArgv: readonly string[]): string[] {
  const loader = /^tsx(?:\/|$)/;
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const flag = /^(--import|--require|-r|--loader|--experimental-loader)(?:=(.*))?$/.exec(arg);
    if (!flag) {
      out.push(arg);
      continue;
    }
    const value = flag[2] ?? execArgv[i + 1];
    if (flag[2] === undefined) i++;
    if (value !== undefined && loader.test(value)) continue;
    out.push(flag[2] === undefined ? arg : arg, ...(flag[2] === undefined && value !== undefined ? [value] : []));
  }
  return out;
}
