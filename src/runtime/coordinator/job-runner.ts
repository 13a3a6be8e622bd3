// runJob: validates and plans a job on the main thread, then drives its workers through the lifecycle.
import { existsSync } from 'node:fs';
import { basename, extname, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { scopeStorage } from '../../checkpoint/scoped-storage.ts';
import { openStorage } from '../../checkpoint/storage/index.ts';
import { fromSources, prepareWorkerCode } from '../code/index.ts';
import { JobConfigError, JobModuleError, JobModuleNotFoundError } from '../errors.ts';
import { planJob } from '../graph/plan.ts';
import { findMissingUids, validateGraph } from '../graph/index.ts';
import { isJobDefinition, type JobGraph } from '../types.ts';
import { JobController } from './job-controller.ts';
import { threadWorkers } from './worker-pool.ts';
import type { WorkerHostFactory } from './worker-host.ts';
import { JobHandle, type JobWarningEvent } from './job-handle.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import { parseRunJobOptions, type ResolvedRunJobOptions, type RunJobOptions } from './run-options.ts';
import type { ReferenceDataLoader, StartSequence, StopRequestResponderFactory } from './start-sequence.ts';

/** Parts of a run that live above the runtime (src/handover), injected by the package's runJob. */
export interface RunExtensions {
  readonly referenceData?: ReferenceDataLoader;
  /** Builds deployment B's start sequence when `handover` is set. */
  readonly startSequence?: (ctx: { readonly handle: JobHandle; readonly jobStorage: CheckpointStorage; readonly options: ResolvedRunJobOptions }) => StartSequence;
  /** Answers stop requests in the job directory (operators' and handover successors'); without it none are read. */
  readonly stopRequests?: (ctx: { readonly handle: JobHandle; readonly options: ResolvedRunJobOptions }) => StopRequestResponderFactory;
}

/**
 * Starts a job defined by `export default defineJob(...)` in `moduleUrl`.
 * Resolves once the job is validated and planned; bad options or graphs reject before any thread starts.
 *
 * @example
 * const job = await runJob(new URL('./wordcount.ts', import.meta.url), { parallelism: 2 });
 * const { operators, collected } = await job.done;
 */
export async function runJob(moduleUrl: string | URL, options: RunJobOptions = {}, extensions: RunExtensions = {}): Promise<JobHandle> {
  const resolved = parseRunJobOptions(options);
  const url = toModuleUrl(moduleUrl);
  // Checked here: a failed import would name the runtime file that imported it, not the user's path.
  if (url.startsWith('file:') && !existsSync(fileURLToPath(url))) throw new JobModuleNotFoundError(String(moduleUrl), fileURLToPath(url));
  const workerCode = await prepareWorkerCode(url);
  // From the build, this thread loads the job's bundle too: no TypeScript loader is needed, and
  // the job's `baton` is this very runtime. From the sources, the caller's loader (tsx, vitest) does.
  const graph = await loadGraph(url, resolved, fromSources ? url : await workerCode.jobModule);
  const jobId = resolved.jobId ?? basename(new URL(url).pathname, extname(new URL(url).pathname));
  return startJob(graph, { ...resolved, jobId }, extensions, { moduleUrl: url, workers: threadWorkers(workerCode) });
}

/**
 * Validates, plans and starts a job whose graph is built already: runJob's second half, and how
 * baton/testing runs a job in the calling thread (`workers`). `options.jobId` is required here.
 */
export function startJob(
  graph: JobGraph,
  resolved: ResolvedRunJobOptions & { readonly jobId: string },
  extensions: RunExtensions,
  where: { readonly moduleUrl: string; readonly workers: WorkerHostFactory },
): JobHandle {
  validateGraph(graph);
  const plan = planJob(graph);
  const workers = resolved.workers ?? plan.workers;
  if (workers < plan.workers) {
    throw new JobConfigError('workers', `the job needs ${plan.workers} worker threads (its highest operator parallelism), got ${workers}`);
  }
  const jobId = resolved.jobId;
  const checkpointing = graph.config.checkpointing;
  const needsStorage = checkpointing !== undefined || resolved.restoreFrom !== undefined || resolved.stopAfterCheckpoint !== undefined;
  if (resolved.handover) {
    if (!checkpointing) throw new JobConfigError('handover', 'needs checkpointing: call env.enableCheckpointing(...) in the job');
    if (resolved.restoreFrom !== undefined) throw new JobConfigError('handover', 'a handover restores from its target checkpoint: leave restoreFrom out');
    if (!extensions.startSequence) throw new JobConfigError('handover', 'this runner has no handover support (use runJob from the baton package)');
  }
  if (resolved.stopAfterCheckpoint !== undefined && !checkpointing) {
    throw new JobConfigError('stopAfterCheckpoint', 'needs checkpointing: call env.enableCheckpointing(...) in the job');
  }
  const storageUri = resolved.checkpointStorage ?? pathToFileURL(resolvePath('.baton', 'checkpoints')).href;
  const rootStorage = needsStorage ? openStorage(storageUri, { s3: resolved.s3, timeouts: resolved.storageTimeouts }) : undefined;
  const handle = new JobHandle(jobId);
  const jobStorage = rootStorage ? scopeStorage(rootStorage, jobId) : undefined;
  const controller = new JobController({
    startSequence: resolved.handover && jobStorage ? extensions.startSequence?.({ handle, jobStorage, options: resolved }) : undefined,
    loadReferenceData: extensions.referenceData,
    stopRequests: extensions.stopRequests?.({ handle, options: resolved }),
    handle,
    moduleUrl: where.moduleUrl,
    workers: where.workers,
    graph,
    plan: { ...plan, workers },
    options: resolved,
    checkpointing,
    checkpointStorageUri: rootStorage ? storageUri : undefined,
    rootStorage,
    jobStorage,
  });
  handle.attach(controller);
  const missingUids = findMissingUids(graph);
  // Start on the next turn so callers can subscribe to status (and warning) events first.
  setImmediate(() => {
    for (const m of missingUids) handle.emit('warning', { code: 'missing-uid', operatorUid: m.uid, message: m.message } satisfies JobWarningEvent);
    void controller.run();
  });
  return handle;
}

/** A job module's URL from what a caller gave: a URL, a `scheme://` string, or a path resolved against the working directory. */
export function toModuleUrl(moduleUrl: string | URL): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl !== 'string' || moduleUrl.length === 0) throw new JobConfigError('moduleUrl', 'expected a file URL or path of a job module');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(moduleUrl)) return moduleUrl;
  return pathToFileURL(resolvePath(moduleUrl)).href;
}

/**
 * Imports a job module on this thread and builds its graph (no worker thread starts). `importUrl`:
 * what to import (the job's bundle when baton runs from its build); errors name `url`, the module the caller gave.
 */
export async function loadGraph(url: string, options: ResolvedRunJobOptions, importUrl: string = url): Promise<JobGraph> {
  let module: { default?: unknown };
  try {
    module = (await import(importUrl)) as { default?: unknown };
  } catch (error) {
    throw new JobModuleError(url, `cannot be loaded: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  if (!isJobDefinition(module.default)) throw new JobModuleError(url, 'has no default export made with defineJob(...)');
  return module.default.buildGraph({ parallelism: options.parallelism, maxParallelism: options.maxParallelism, params: options.params });
}

