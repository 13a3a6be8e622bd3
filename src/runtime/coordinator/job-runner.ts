// runJob: validates and plans a job on the main thread, then drives its workers through the lifecycle.
import { basename, extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { JobCanceledError, JobConfigError, JobModuleError, reviveError, WorkerFailureError } from '../errors.ts';
import { planJob } from '../graph/plan.ts';
import { validateGraph } from '../graph/validate-graph.ts';
import { isTerminal } from '../lifecycle/job-status.ts';
import { type ExecutionPlan, isJobDefinition, type JobGraph } from '../types.ts';
import type { CoordinatorCommand, SubtaskMetricsReport, WorkerEvent, WorkerPayload, WorkerResult } from '../worker/protocol.ts';
import { JobHandle } from './job-handle.ts';
import { collectSinkResults, summarizeOperators } from './job-result.ts';
import { parseRunJobOptions, type ResolvedRunJobOptions, type RunJobOptions } from './run-options.ts';
import { WorkerPool } from './worker-pool.ts';

/**
 * Starts a job defined by `export default defineJob(...)` in `moduleUrl`.
 * Resolves once the job is validated and planned; bad options or graphs reject before any thread starts.
 *
 * @example
 * const job = await runJob(new URL('./wordcount.ts', import.meta.url), { parallelism: 2 });
 * const { operators, collected } = await job.done;
 */
export async function runJob(moduleUrl: string | URL, options: RunJobOptions = {}): Promise<JobHandle> {
  const resolved = parseRunJobOptions(options);
  const url = toModuleUrl(moduleUrl);
  const graph = await loadGraph(url, resolved);
  validateGraph(graph);
  const plan = planJob(graph);
  const workers = resolved.workers ?? plan.workers;
  if (workers < plan.workers) {
    throw new JobConfigError('workers', `the job needs ${plan.workers} worker threads (its highest operator parallelism), got ${workers}`);
  }
  const jobId = resolved.jobId ?? basename(new URL(url).pathname, extname(new URL(url).pathname));
  const handle = new JobHandle(jobId);
  const execution = new JobExecution(handle, url, graph, { ...plan, workers }, resolved);
  handle.attach(execution);
  // Start on the next turn so callers can subscribe to status events first.
  setImmediate(() => void execution.run());
  return handle;
}

function toModuleUrl(moduleUrl: string | URL): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl !== 'string' || moduleUrl.length === 0) throw new JobConfigError('moduleUrl', 'expected a file URL or path of a job module');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(moduleUrl)) return moduleUrl;
  return pathToFileURL(resolvePath(moduleUrl)).href;
}

async function loadGraph(url: string, options: ResolvedRunJobOptions): Promise<JobGraph> {
  let module: { default?: unknown };
  try {
    module = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new JobModuleError(url, `cannot be loaded: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  if (!isJobDefinition(module.default)) throw new JobModuleError(url, 'has no default export made with defineJob(...)');
  return module.default.buildGraph({ parallelism: options.parallelism, maxParallelism: options.maxParallelism, params: options.params });
}

type Phase = 'ready' | 'hooks-done' | 'restored';

/** How long failed or canceled workers get to abort before their threads are terminated. */
const SETTLE_TIMEOUT_MS = 5_000;

/** One run of a job: pool, channels, the lifecycle, and the final result. */
class JobExecution {
  private pool: WorkerPool | undefined;
  private pending: Promise<WorkerResult>[] = [];
  private controls: MessagePort[] = [];
  private readonly arrived = new Map<Phase, Set<number>>();
  private phaseWaiter: { phase: Phase; resolve: () => void } | undefined;
  private failure: unknown;
  private failureSignal!: (error: unknown) => void;
  private readonly failed: Promise<never>;
  private readonly hookMs: Record<string, number> = {};
  private readonly latestMetrics = new Map<string, SubtaskMetricsReport>();
  private canceled = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly handle: JobHandle,
    private readonly moduleUrl: string,
    private readonly graph: JobGraph,
    private readonly plan: ExecutionPlan,
    private readonly options: ResolvedRunJobOptions,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.failureSignal = reject;
    });
    this.failed.catch(() => {});
  }

  async run(): Promise<void> {
    const handle = this.handle;
    let results: WorkerResult[] = [];
    try {
      handle.transition({ type: 'initialize' });
      const pending = this.launchWorkers();
      this.pending = pending;
      await this.untilAll('ready');
      handle.transition({ type: 'workers-ready' });
      this.broadcast({ type: 'run-hooks' });
      await this.untilAll('hooks-done');
      handle.transition({ type: 'hooks-done' });
      this.broadcast({ type: 'restore' });
      await this.untilAll('restored');
      handle.transition({ type: 'state-restored' });
      handle.transition({ type: 'start-signal' });
      this.broadcast({ type: 'start' });
      results = await Promise.race([Promise.all(pending), this.failed]);
      if (this.canceled) throw new JobCanceledError(handle.jobId);
      const failedWorker = results.find((r) => r.error !== undefined) ?? results.find((r) => r.outcome !== 'finished');
      if (failedWorker) {
        const cause = failedWorker.error
          ? reviveError(failedWorker.error, failedWorker.workerIndex)
          : new WorkerFailureError(failedWorker.workerIndex, `ended ${failedWorker.outcome}`);
        this.fail(cause);
        throw this.failure ?? cause;
      }
      await this.shutdown();
      handle.transition({ type: 'input-ended' });
      handle.resolve(this.result(results));
    } catch (error) {
      const settled = await this.settleWorkers();
      await this.shutdown();
      if (this.canceled) {
        if (!isTerminal(handle.status)) handle.transition({ type: 'cancel' });
        handle.resolve(this.result(settled.length === this.plan.workers ? settled : results));
        return;
      }
      const reported = this.failure ?? error;
      if (!isTerminal(handle.status)) handle.transition({ type: 'fail', error: reported });
      handle.reject(reported);
    }
  }

  cancel(): Promise<void> {
    if (isTerminal(this.handle.status) || this.canceled) return this.handle.done.then(() => undefined, () => undefined);
    this.canceled = true;
    this.broadcast({ type: 'cancel' });
    this.failureSignal(new JobCanceledError(this.handle.jobId));
    return this.handle.done.then(() => undefined, () => undefined);
  }

  liveWorkerThreads(): number {
    return this.pool?.liveThreads ?? 0;
  }

  private launchWorkers(): Promise<WorkerResult>[] {
    const { plan } = this;
    this.pool = new WorkerPool(plan.workers);
    const ports: Array<Array<{ channelId: number; port: MessagePort }>> = Array.from({ length: plan.workers }, () => []);
    for (const channel of plan.channels) {
      if (channel.fromSubtask === channel.toSubtask) continue;
      const { port1, port2 } = new MessageChannel();
      ports[channel.fromSubtask].push({ channelId: channel.id, port: port1 });
      ports[channel.toSubtask].push({ channelId: channel.id, port: port2 });
    }
    return Array.from({ length: plan.workers }, (_, workerIndex) => {
      const { port1, port2 } = new MessageChannel();
      this.controls.push(port1);
      port1.on('message', (event: WorkerEvent) => this.onWorkerEvent(workerIndex, event));
      const payload: WorkerPayload = {
        jobId: this.handle.jobId,
        moduleUrl: this.moduleUrl,
        workerIndex,
        buildConfig: { parallelism: this.options.parallelism, maxParallelism: this.options.maxParallelism, params: this.options.params },
        plan,
        tuning: { batchSize: this.options.batchSize, channelCredits: this.options.channelCredits },
        control: port2,
        ports: ports[workerIndex],
        metricsIntervalMs: this.options.metricsIntervalMs,
      };
      return this.pool!.run(payload, ports[workerIndex].map((p) => p.port)).catch((error: unknown) => {
        const failure = new WorkerFailureError(workerIndex, `thread ended abnormally: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        this.fail(failure);
        throw failure;
      });
    });
  }

  private onWorkerEvent(workerIndex: number, event: WorkerEvent): void {
    switch (event.type) {
      case 'ready':
      case 'restored':
        this.arrive(event.type, workerIndex);
        return;
      case 'hooks-done':
        for (const [name, ms] of Object.entries(event.hookMs)) this.hookMs[name] = Math.max(this.hookMs[name] ?? 0, ms);
        this.arrive('hooks-done', workerIndex);
        return;
      case 'metrics':
        for (const report of event.operators) this.latestMetrics.set(`${report.uid}/${report.subtaskIndex}`, report);
        this.emitProgress();
        return;
      case 'failed':
        this.fail(reviveError(event.error, workerIndex));
        return;
    }
  }

  private emitProgress(): void {
    const operators: Record<string, { recordsIn: number; recordsOut: number }> = {};
    for (const report of this.latestMetrics.values()) {
      const entry = operators[report.uid] ?? { recordsIn: 0, recordsOut: 0 };
      operators[report.uid] = entry;
      entry.recordsIn += report.metrics.recordsIn;
      entry.recordsOut += report.metrics.recordsOut;
    }
    this.handle.emit('progress', { at: Date.now(), operators });
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined || this.canceled) return;
    this.failure = error;
    this.broadcast({ type: 'cancel' });
    this.failureSignal(error);
  }

  private arrive(phase: Phase, workerIndex: number): void {
    const set = this.arrived.get(phase) ?? new Set<number>();
    set.add(workerIndex);
    this.arrived.set(phase, set);
    const waiter = this.phaseWaiter;
    if (waiter && waiter.phase === phase && set.size === this.plan.workers) {
      this.phaseWaiter = undefined;
      waiter.resolve();
    }
  }

  private untilAll(phase: Phase): Promise<void> {
    if ((this.arrived.get(phase)?.size ?? 0) === this.plan.workers) return Promise.resolve();
    const reached = new Promise<void>((resolve) => {
      this.phaseWaiter = { phase, resolve };
    });
    return Promise.race([reached, this.failed]);
  }

  private broadcast(command: CoordinatorCommand): void {
    for (const port of this.controls) {
      try {
        port.postMessage(command);
      } catch {
        // The worker already closed its end: it has ended and needs no command.
      }
    }
  }

  /** Lets canceled workers abort their sinks cleanly before the threads are terminated. */
  private async settleWorkers(): Promise<WorkerResult[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), SETTLE_TIMEOUT_MS);
    });
    const settled = await Promise.race([Promise.allSettled(this.pending), timeout]);
    clearTimeout(timer);
    if (!settled) return [];
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  private async shutdown(): Promise<void> {
    for (const port of this.controls) port.close();
    this.controls = [];
    await this.pool?.destroy();
  }

  private result(results: readonly WorkerResult[]) {
    const reports = results.length > 0 ? results.flatMap((r) => r.operators) : [...this.latestMetrics.values()];
    return {
      jobId: this.handle.jobId,
      status: this.handle.status,
      durationMs: Date.now() - this.startedAt,
      operators: summarizeOperators(this.graph, reports),
      collected: collectSinkResults(results),
      channels: results.flatMap((r) => r.channels),
      statusHistory: [...this.handle.statusHistory],
      hookMs: { ...this.hookMs },
    };
  }
}
