// testJob: a whole job in the calling thread, driven step by step by a test.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import { StreamExecutionEnvironment } from '../api/index.ts';
import type { JobHandle } from '../runtime/index.ts';
import type { JobResult } from '../runtime/index.ts';
import { handoverExtensions } from '../handover/index.ts';
import { type RunExtensions, startJob } from '../runtime/coordinator/job-runner.ts';
import { parseOptions, parseRunJobOptions } from '../runtime/coordinator/run-options.ts';
import { isTerminal } from '../runtime/lifecycle/job-status.ts';
import { sinkOperator } from '../runtime/operators/sink.ts';
import { ManualProcessingTime } from '../runtime/time/manual-processing-time.ts';
import type { GraphNode, JobDefinition, JobGraph } from '../runtime/types.ts';
import { isJobDefinition } from '../runtime/types.ts';
import { type InThreadHost, inThreadWorkers } from '../runtime/worker/in-thread-host.ts';
import { JobConfigError } from '../runtime/index.ts';
import { keyGroupFor, keyGroupRangeContains } from '../state/index.ts';
import type { KeyedStateBackend, KeyValue } from '../state/index.ts';
import { TestDriverStateError, UnknownTestTargetError } from './errors.ts';
import { observeSink, SinkLog, SinkView } from './sink-log.ts';
import { InputLog, InputLogSource } from './test-input.ts';
import { TestCheckpoint, TestInput, TestOutput } from './test-driver-parts.ts';

export { TestCheckpoint, TestInput, TestOutput };

const TestJobOptionsSchema = z
  .object({
    parallelism: z.number().int().min(1).max(256).default(1),
    maxParallelism: z.number().int().min(1).optional(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /**
     * The sources the test feeds, by uid: `'all'` (default) replaces every source of the job with
     * a test input; a list replaces those only (the others run as written); an object also sets
     * each input's partitions (splits; default 1).
     */
    inputs: z.union([z.literal('all'), z.array(z.string()), z.record(z.string(), z.object({ partitions: z.number().int().min(1).max(1024).default(1) }).strict())]).default('all'),
    stateBackend: z.enum(['lmdb', 'heap']).default('lmdb'),
    /** Processing time when the job starts (ms); the driver's clock only moves when the test moves it. */
    startTime: z.number().int().optional(),
    /** `'per-batch'` (default): an assigner's watermarks follow every push; `'periodic'`: on processing time, as in production. */
    watermarks: z.enum(['per-batch', 'periodic']).default('per-batch'),
    /** A checkpoint of an earlier driver (the same job or another version, any parallelism). */
    restoreFrom: z.custom<TestCheckpoint>((v) => v instanceof TestCheckpoint, 'must be a checkpoint from driver.checkpoint()').optional(),
    allowNonRestoredState: z.boolean().default(false),
    /** Where checkpoints go (default: a temporary directory of this process, removed when it exits). */
    checkpointStorage: z.string().min(1).optional(),
    jobId: z.string().optional(),
    batchSize: z.number().int().min(1).optional(),
    /**
     * Deployment B of a handover from the running driver `from` (the real protocol: stage 1, follow,
     * stop request, stage 2): B shares its storage, inputs and outputs, and testJob resolves once B
     * runs (A has stopped). Other keys are runJob's `handover` options.
     */
    handover: z
      .object({
        from: z.custom<TestDriver>((v) => v instanceof TestDriver, 'must be the TestDriver of the running job'),
        targetCheckpoint: z.union([z.literal('when-ready'), z.number().int().min(1)]).optional(),
        timeoutMs: z.number().int().min(1).optional(),
        leaseMs: z.number().int().min(100).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Options of {@link testJob}. */
export type TestJobOptions = z.input<typeof TestJobOptionsSchema>;

let processStorageRoot: string | undefined;

/** One temporary directory per process for the drivers' checkpoints, removed when the process exits. */
function defaultStorageRoot(): string {
  if (!processStorageRoot) {
    const dir = mkdtempSync(join(tmpdir(), 'baton-testing-'));
    processStorageRoot = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return pathToFileURL(processStorageRoot).href;
}

/**
 * A job running in the calling thread under a test's control. Every step (push, watermark,
 * processing time, checkpoint) resolves once the job has processed all it can: read outputs and
 * state right after.
 */
export class TestDriver {
  private readonly clock: ManualProcessingTime;
  private host: InThreadHost | undefined;
  private failure: unknown;
  private readonly inputsByUid = new Map<string, TestInput>();
  private readonly outputsByUid = new Map<string, TestOutput>();
  private readonly sinkViews: ReadonlyMap<string, SinkView>;

  /** @internal */
  constructor(
    readonly handle: JobHandle,
    private readonly graph: JobGraph,
    clock: ManualProcessingTime,
    private readonly inputLogs: ReadonlyMap<string, InputLog>,
    private readonly sinkLogs: ReadonlyMap<string, SinkLog>,
    sinkViews: ReadonlyMap<string, SinkView>,
    readonly storage: string,
  ) {
    this.clock = clock;
    this.sinkViews = sinkViews;
    for (const [uid, log] of inputLogs) this.inputsByUid.set(uid, new TestInput(this, uid, log));
    for (const [uid, log] of sinkLogs) this.outputsByUid.set(uid, new TestOutput(uid, log, sinkViews.get(uid)!));
    handle.done.catch((error: unknown) => {
      this.failure ??= error;
    });
  }

  /** @internal A handover's B shares this log. */
  inputLog(uid: string): InputLog | undefined {
    return this.inputLogs.get(uid);
  }

  /** @internal A handover's B shares this log. */
  sinkLog(uid: string): SinkLog | undefined {
    return this.sinkLogs.get(uid);
  }

  /** @internal The in-thread host of the current attempt. */
  attach(host: InThreadHost): void {
    this.host = host;
  }

  /** The input standing in for the source `uid`. */
  input<T = unknown>(uid: string): TestInput<T> {
    const input = this.inputsByUid.get(uid);
    if (!input) throw new UnknownTestTargetError('input', uid, [...this.inputsByUid.keys()]);
    return input as TestInput<T>;
  }

  /** The output of the sink `uid` (every sink of the job is observed). */
  output<T = unknown>(uid: string): TestOutput<T> {
    const output = this.outputsByUid.get(uid);
    if (!output) throw new UnknownTestTargetError('output', uid, [...this.outputsByUid.keys()]);
    return output as TestOutput<T>;
  }

  /** Current processing time of the job (ms). */
  get processingTime(): number {
    return this.clock.now();
  }

  /** Moves processing time forward by `ms`: processing-time timers due by then fire, in time order. */
  async advanceProcessingTime(ms: number): Promise<void> {
    await this.setProcessingTime(this.clock.now() + ms);
  }

  /**
   * Moves processing time to `at` (never backwards). Does not wait for asyncMap requests in flight,
   * before or after: they may be waiting for this very step (to time out).
   */
  async setProcessingTime(at: number): Promise<void> {
    this.requireRunning();
    await this.settleUntil(false);
    this.clock.advanceTo(at);
    await this.settleUntil(false);
  }

  /**
   * Takes a checkpoint of everything pushed so far and resolves once it completed and every sink
   * committed it.
   *
   * @example
   * const cp = await driver.checkpoint();
   * const restored = await testJob(job, { restoreFrom: cp, parallelism: 4 });
   */
  async checkpoint(): Promise<TestCheckpoint> {
    this.requireRunning();
    // asyncMap requests still in flight are not waited for: they go into the checkpoint (Flink's AsyncWaitOperator).
    await this.settleUntil(false);
    const stats = await this.handle.checkpoint();
    await this.until(() => this.sinksCommitted(stats.id));
    return new TestCheckpoint(stats.id, this.handle.jobId, this.storage, this.clock.now(), this.inputLogs, this.sinkLogs);
  }

  /**
   * Ends every input and waits for the job to finish (its final checkpoint commits the rest).
   * Resolves with the job's result; rejects with its error if it failed.
   */
  async finish(): Promise<JobResult> {
    for (const log of this.inputLogs.values()) log.end();
    return this.handle.done;
  }

  /** Kills the job as a failure would: nothing uncommitted is committed; restore from a checkpoint to go on. */
  async crash(): Promise<void> {
    await this.handle.cancel();
  }

  /** Ends the driver if it still runs (as {@link crash}). */
  async close(): Promise<void> {
    if (!isTerminal(this.handle.status)) await this.handle.cancel();
  }

  /**
   * A keyed value state of operator `uid` for `key`, as the operator would read it now.
   *
   * @example expect(await driver.valueState<number>('count', 'count', 'ann')).toBe(3);
   */
  async valueState<T>(uid: string, name: string, key: KeyValue): Promise<T | undefined> {
    return this.readState(uid, key, (backend) => backend.valueState<T>(name).value());
  }

  /** A keyed map state of operator `uid` for `key`, as entries. */
  async mapState<K, V>(uid: string, name: string, key: KeyValue): Promise<Array<[K, V]>> {
    return this.readState(uid, key, (backend) => [...backend.mapState<K, V>(name).entries()]);
  }

  /** A keyed list state of operator `uid` for `key`. */
  async listState<T>(uid: string, name: string, key: KeyValue): Promise<T[]> {
    return this.readState(uid, key, (backend) => [...backend.listState<T>(name).get()]);
  }

  /**
   * Waits until the job has processed everything it can: no input unread, nothing queued,
   * in progress or unsent in any channel, no asyncMap request in flight (so `await push(x)`
   * resolves once its async results are out; a request that only a processing-time step can end,
   * e.g. by its timeout, must not be awaited this way). Each input step of the driver does this itself.
   */
  async settle(): Promise<void> {
    await this.settleUntil(true);
  }

  /** settle; `awaitAsync` false: asyncMap requests in flight (and the input they hold back) do not count. */
  private async settleUntil(awaitAsync: boolean): Promise<void> {
    // Two quiet turns in a row: a message posted in the first (a control command) is seen in the second.
    let quiet = 0;
    await this.until(() => {
      quiet = this.host?.isQuiet(awaitAsync) ? quiet + 1 : 0;
      return quiet >= 2 || isTerminal(this.handle.status);
    });
  }

  /** @internal */
  requireRunning(): void {
    if (this.failure !== undefined) throw this.failure;
    if (isTerminal(this.handle.status)) throw new TestDriverStateError(`the job has ended (${this.handle.status})`);
  }

  private async readState<R>(uid: string, key: KeyValue, read: (backend: KeyedStateBackend) => R): Promise<R> {
    await this.settle();
    const node = this.graph.nodes.find((n) => n.uid === uid && n.keyed);
    if (!node) throw new UnknownTestTargetError('keyed operator', uid, this.graph.nodes.filter((n) => n.keyed).map((n) => n.uid));
    const keyGroup = keyGroupFor(key, this.graph.maxParallelism);
    for (const worker of this.host?.workers ?? []) {
      for (const subtask of worker.subtasks) {
        const backend = subtask.keyedStateOf(uid);
        if (!backend || !keyGroupRangeContains(backend.keyGroupRange, keyGroup)) continue;
        // Between two records the current key is free: set it for the read, as the operator would.
        backend.setCurrentKey(key);
        return read(backend);
      }
    }
    throw new TestDriverStateError(`no subtask of '${uid}' holds key group ${keyGroup} (the job has ended?)`);
  }

  private sinksCommitted(checkpointId: number): boolean {
    for (const node of this.graph.nodes) {
      if (node.kind !== 'sink') continue;
      const view = this.sinkViews.get(node.uid)!;
      for (let i = 0; i < node.parallelism; i++) if ((view.committedUpTo.get(i) ?? 0) < checkpointId) return false;
    }
    return true;
  }

  /** Turns of the event loop until `done` holds; the job's failure rejects. */
  private async until(done: () => boolean): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (done()) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

function configOfInputs(inputs: z.output<typeof TestJobOptionsSchema>['inputs'], sources: readonly GraphNode[]): Map<string, number> {
  const uids = sources.map((s) => s.uid);
  const chosen = new Map<string, number>();
  if (inputs === 'all') for (const uid of uids) chosen.set(uid, 1);
  else if (Array.isArray(inputs)) for (const uid of inputs) chosen.set(uid, 1);
  else for (const [uid, c] of Object.entries(inputs)) chosen.set(uid, c.partitions);
  for (const uid of chosen.keys()) if (!uids.includes(uid)) throw new UnknownTestTargetError('input', uid, uids);
  return chosen;
}

/** Checkpointing as the job configured it, taken on request only (the driver decides when); all checkpoints kept. */
function onRequestCheckpointing(graph: JobGraph): JobGraph['config']['checkpointing'] {
  const base = graph.config.checkpointing ?? new StreamExecutionEnvironment(1, graph.maxParallelism).enableCheckpointing({ intervalMs: 1 }).toJobGraph().config.checkpointing!;
  return { ...base, intervalMs: Number.POSITIVE_INFINITY, retain: Number.MAX_SAFE_INTEGER };
}

/**
 * Runs `job` in the calling thread — no worker threads — with the real runtime: subtasks at the
 * given parallelism, key groups, channels, barriers, operators, state backends and checkpoints.
 * Sources become inputs the test feeds (see `inputs`), every sink is observed, processing time
 * moves only when the test moves it, and checkpoints are taken when the test asks.
 *
 * @example
 * const driver = await testJob(wordCount, { parallelism: 2 });
 * await driver.input<string>('lines').pushAll(['to be', 'or not']);
 * await driver.checkpoint();
 * expect(driver.output<[string, number]>('counts').committed).toContainEqual(['to', 1]);
 * await driver.close();
 */
export async function testJob(job: JobDefinition, options: TestJobOptions = {}): Promise<TestDriver> {
  if (!isJobDefinition(job)) throw new JobConfigError('testJob job', 'expected a job made with defineJob(...)');
  const o = parseOptions(TestJobOptionsSchema, options);
  const from = o.restoreFrom;
  const predecessor = o.handover?.from;
  if (from && predecessor) throw new JobConfigError('testJob restoreFrom', 'a handover restores from the running job: leave restoreFrom out');
  const { from: _, ...handover } = o.handover ?? { from: undefined };
  const run = parseRunJobOptions({
    ...(predecessor ? { handover: { pollMs: 10, ...handover } } : {}),
    // A test waits on these: look at stop requests often (the handover's A side).
    stopRequestPollMs: 10,
    handoverPollMs: 5,
    parallelism: o.parallelism,
    ...(o.maxParallelism !== undefined ? { maxParallelism: o.maxParallelism } : {}),
    params: o.params,
    stateBackend: o.stateBackend,
    allowNonRestoredState: o.allowNonRestoredState,
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(from ? { restoreFrom: from.id } : {}),
    checkpointStorage: predecessor?.storage ?? from?.storage ?? o.checkpointStorage ?? defaultStorageRoot(),
  });
  const buildConfig = {
    parallelism: run.parallelism,
    maxParallelism: run.maxParallelism,
    params: run.params,
    ...(o.watermarks === 'per-batch' ? { overrides: { autoWatermarkIntervalMs: 0 } } : {}),
  };
  const probe = job.buildGraph(buildConfig);
  const inputs = configOfInputs(
    o.inputs,
    probe.nodes.filter((n) => n.kind === 'source'),
  );
  const inputLogs = new Map<string, InputLog>();
  const sinkLogs = new Map<string, SinkLog>();
  const sinkViews = new Map<string, SinkView>();
  const runId = randomUUID();
  for (const node of probe.nodes) {
    if (node.kind === 'source' && inputs.has(node.uid)) {
      // A handover's B reads the very log A read (the broker both deployments share); a restore reads a copy.
      const shared = predecessor?.inputLog(node.uid);
      const earlier = from?.inputs.get(node.uid);
      inputLogs.set(node.uid, shared ?? (earlier ? earlier.fork() : new InputLog(node.uid, inputs.get(node.uid)!)));
    }
    if (node.kind === 'sink') {
      sinkLogs.set(node.uid, predecessor?.sinkLog(node.uid) ?? from?.sinks.get(node.uid) ?? new SinkLog());
      sinkViews.set(node.uid, new SinkView());
    }
  }
  // Built once for the coordinator and once per worker, as threads build it: each subtask gets its
  // own instances of the user's functions. Replaced sources and observed sinks share the test's logs.
  const buildGraph = (): JobGraph => {
    const built = job.buildGraph(buildConfig);
    const nodes = built.nodes.map((node): GraphNode => {
      const log = inputLogs.get(node.uid);
      if (node.kind === 'source' && log) return { ...node, source: new InputLogSource(log) };
      if (node.kind === 'sink' && node.sink) {
        const sink = observeSink(node.sink, sinkLogs.get(node.uid)!, sinkViews.get(node.uid)!, runId);
        // The operator was made from the job's sink when the graph was built: make it again from the observed one.
        return { ...node, sink, operator: sinkOperator(sink) };
      }
      return node;
    });
    return { ...built, nodes, config: { ...built.config, checkpointing: onRequestCheckpointing(built) } };
  };
  const graph = buildGraph();
  const clock = new ManualProcessingTime(o.startTime ?? predecessor?.processingTime ?? from?.processingTime ?? 0);
  const jobId = o.jobId ?? predecessor?.handle.jobId ?? from?.jobId ?? `test-${runId.slice(0, 8)}`;
  let driver: TestDriver | undefined;
  let pendingHost: InThreadHost | undefined;
  const workers = inThreadWorkers(
    buildGraph,
    (host) => {
      if (driver) driver.attach(host);
      else pendingHost = host;
    },
    clock,
  );
  const extensions: RunExtensions = await handoverExtensions({});
  const handle = startJob(graph, { ...run, jobId }, extensions, { moduleUrl: 'baton:test-job', workers });
  driver = new TestDriver(handle, graph, clock, inputLogs, sinkLogs, sinkViews, run.checkpointStorage!);
  if (pendingHost) driver.attach(pendingHost);
  await untilRunning(handle);
  return driver;
}

/** Resolves once the job is RUNNING; rejects with its error if it ends first. */
function untilRunning(handle: JobHandle): Promise<void> {
  return new Promise((resolve, reject) => {
    const onStatus = (e: { status: string }) => {
      if (e.status === 'RUNNING') {
        handle.off('status', onStatus);
        resolve();
      } else if (isTerminal(e.status as never)) {
        handle.off('status', onStatus);
        handle.done.then(
          () => reject(new TestDriverStateError(`the job ended ${e.status} before it ran`)),
          (error: unknown) => reject(error),
        );
      }
    };
    handle.on('status', onStatus);
  });
}
