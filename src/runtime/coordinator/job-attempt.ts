// One attempt at running a job: worker pool, channels, lifecycle phases, checkpoints, and how it ended.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { StopMode } from '../../checkpoint/index.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import { CheckpointFailuresExceededError, JobCanceledError, JobConfigError, JobModuleError, serializeThrown, ShadowCutFailedError, WorkerFailureError } from '../errors.ts';
import { reviveWorkerFailure } from '../worker-failure.ts';
import type { CheckpointingConfig, ExecutionPlan, JobGraph } from '../types.ts';
import type { CoordinatorCommand, SubtaskMetricsReport, WorkerEvent, WorkerRestore, WorkerResult } from '../worker/protocol.ts';
import { CheckpointDriver, type CheckpointStats } from './checkpoint-driver.ts';
import { StorageCheckpointPersistence } from './checkpoint-persistence.ts';
import { Standby } from './standby.ts';
import type { JobHandle } from './job-handle.ts';
import type { RestoreFrom } from './resolve-restore.ts';
import { restoreMessage } from './restore-event.ts';
import type { ResolvedRunJobOptions } from './run-options.ts';
import type {
  AttemptRestoreControl,
  FollowResult,
  ReferenceDataLoader,
  RollbackReport,
  RunningJobControl,
  StartSequence,
  StopRequestResponder,
  StopRequestResponderFactory,
} from './start-sequence.ts';
import { planWorkerRestores } from './worker-restores.ts';
import { ShadowRun } from './shadow-run.ts';
import type { CutPositions } from '../task/source-cut.ts';
import { checkpointProgress, progressByOperator } from './operator-progress.ts';
import type { WorkerHost, WorkerHostFactory, WorkerLaunch } from './worker-host.ts';

type Phase = 'ready' | 'hooks-done' | 'restored';

/** How long failed or canceled workers get to abort before their threads are terminated. */
const SETTLE_TIMEOUT_MS = 5_000;

export type AttemptOutcome =
  | { readonly kind: 'finished'; readonly results: readonly WorkerResult[] }
  | { readonly kind: 'stopped'; readonly mode: StopMode; readonly checkpointId: number; readonly results: readonly WorkerResult[] }
  | { readonly kind: 'canceled'; readonly results: readonly WorkerResult[] }
  | { readonly kind: 'failed'; readonly error: unknown; readonly results: readonly WorkerResult[] };

export interface AttemptContext {
  readonly handle: JobHandle;
  readonly moduleUrl: string;
  /** Where the workers run (piscina threads; the caller's thread for baton/testing). */
  readonly workers: WorkerHostFactory;
  readonly graph: JobGraph;
  readonly plan: ExecutionPlan;
  readonly options: ResolvedRunJobOptions;
  /** The job's directory in checkpoint storage (when checkpointing or restoring). */
  readonly jobStorage?: CheckpointStorage;
  readonly checkpointStorageUri?: string;
  readonly checkpointing?: CheckpointingConfig;
  /** What this attempt restores from (undefined: an empty start, or a start sequence decides). */
  readonly restoreFrom?: RestoreFrom;
  /**
   * Resolves the checkpoint to restore from storage alone, before any worker thread starts, so a
   * missing, unknown or corrupt checkpoint fails at once. Undefined: an empty start.
   */
  readonly planRestore?: () => Promise<CheckpointMetadata | undefined>;
  /** Loads the checkpoint to restore (after the hooks ran), or undefined for an empty start. */
  readonly loadRestore: () => Promise<CheckpointMetadata | undefined>;
  /** Next checkpoint id (after every id already in storage). */
  readonly firstCheckpointId: () => Promise<number>;
  /**
   * Checkpoints newer than the restored one that the restore passed over on purpose (a corrupt
   * newest one under `latest-valid`, the newer ones of an explicit `restoreFrom: n`): the fence
   * ignores them, they are history, not another run's doing.
   */
  readonly passedOver?: () => readonly number[];
  readonly stateRoot: string;
  readonly onCheckpoint: (stats: CheckpointStats) => void;
  /** Not the first attempt of the run. */
  readonly restart?: boolean;
  /** Replaces the plain restore (a handover); only on the first attempt. */
  readonly startSequence?: StartSequence;
  readonly loadReferenceData?: ReferenceDataLoader;
  /** Reads stop requests in the job directory and answers them (a handover's predecessor side); injected. */
  readonly stopRequests?: StopRequestResponderFactory;
}

export class JobAttempt {
  private pool: WorkerHost | undefined;
  private pending: Promise<WorkerResult>[] = [];
  private controls: MessagePort[] = [];
  private readonly arrived = new Map<Phase, Set<number>>();
  private phaseWaiter: { phase: Phase; resolve: () => void } | undefined;
  private failure: unknown;
  private failureSignal!: (error: unknown) => void;
  private readonly failed: Promise<never>;
  readonly hookMs: Record<string, number> = {};
  readonly latestMetrics = new Map<string, SubtaskMetricsReport>();
  private canceled = false;
  private driver: CheckpointDriver | undefined;
  private stopping: { mode: StopMode; id: number } | undefined;
  private stopRequest: 'suspend' | 'terminate' | undefined;
  private followWaiter: { id: number; arrived: Set<number>; chunks: number; bytes: number; reloads: number; missing?: string; resolve: (r: FollowResult) => void } | undefined;
  private resolveFirstRecord!: (at: number) => void;
  private readonly firstRecord = new Promise<number>((resolve) => {
    this.resolveFirstRecord = resolve;
  });
  private responder: StopRequestResponder | undefined;
  /** A handover's predecessor after its stop checkpoint (STANDBY), until it ends or resumes. */
  private readonly standby = new Standby({
    history: () => this.driver?.history ?? [],
    resumeCheckpoints: () => this.driver?.resumeAfterStop(),
    transition: (type) => this.ctx.handle.transition({ type }),
    stopWorkers: () => this.broadcast({ type: 'stop' }),
    resumeWorkers: (id) => this.broadcast({ type: 'resume', id }),
    failed: () => this.failed,
  });
  /**
   * The attempt failed on standby: a successor may be taking over from the stop checkpoint, so a
   * restart (which would restore and run from it too) is not allowed.
   */
  failedInStandby = false;
  /** Each rollback of this attempt (resumed after a stop checkpoint), with its downtime. */
  get rollbacks(): readonly RollbackReport[] {
    return this.standby.rollbacks;
  }
  private resolveFirstCheckpoint!: (id: number) => void;
  private readonly firstCheckpoint = new Promise<number>((resolve) => {
    this.resolveFirstCheckpoint = resolve;
  });
  /** Source subtasks (`task/subtask`) that read all their input; when all have, the final checkpoint goes. */
  private readonly endedSources = new Set<string>();
  /** Epoch ms of the first record any worker processed (undefined: none yet). */
  firstRecordAt: number | undefined;
  /** When the workers last reported their counters (epoch ms). */
  private progressAt: number | undefined;
  private readonly referenceUris = new Set<string>();
  /** What the workers' current restore downloaded (handover stage 2). */
  private restoreApplied: FollowResult = { chunks: 0, bytes: 0, reloads: 0 };
  restoredCheckpoint: number | undefined;
  private checkpointingStarted!: () => void;
  /** Resolves once the checkpoint driver runs (or it is known that none will: no checkpointing). */
  private readonly checkpointing = new Promise<void>((resolve) => {
    this.checkpointingStarted = resolve;
  });
  /** Shadow mode: the coordinator's side of the shadow (samples, holds, the cut), until promoted. */
  private shadowRun: ShadowRun | undefined;
  /** Shadow mode, promoted: where the first checkpoint (the cut) reads its sources up to. */
  private cutPositions: CutPositions | undefined;

  constructor(private readonly ctx: AttemptContext) {
    this.failed = new Promise<never>((_, reject) => {
      this.failureSignal = reject;
    });
    this.failed.catch(() => {});
  }

  /** Checkpoint ids below this were triggered by this attempt (a restart must not reuse them). */
  get nextCheckpointId(): number | undefined {
    return this.driver?.nextId;
  }

  get checkpointHistory(): readonly CheckpointStats[] {
    return this.driver?.history ?? [];
  }

  async run(): Promise<AttemptOutcome> {
    const { handle, plan } = this.ctx;
    try {
      handle.transition({ type: 'initialize' });
      // Storage-only checks first: a restore or handover that cannot work fails before any thread starts.
      const planned = this.ctx.startSequence || !this.ctx.planRestore ? undefined : await Promise.race([this.ctx.planRestore(), this.failed]);
      if (planned) this.planWorkerRestores(planned);
      await this.ctx.startSequence?.begin?.();
      this.pending = this.launchWorkers();
      await this.untilAll('ready');
      handle.transition({ type: 'workers-ready' });
      this.broadcast({ type: 'run-hooks' });
      await this.untilAll('hooks-done');
      handle.transition({ type: 'hooks-done' });
      const sequence = this.ctx.startSequence;
      if (sequence) {
        const metadata = await Promise.race([sequence.prepare(this.restoreControl()), this.failed]);
        this.restoredCheckpoint = metadata?.checkpointId;
        this.reportRestore('handover');
      } else {
        const metadata = await Promise.race([this.ctx.loadRestore(), this.failed]);
        this.restoredCheckpoint = metadata?.checkpointId;
        await this.restoreWorkers(metadata, false);
        this.reportRestore(this.ctx.restoreFrom);
        handle.transition({ type: 'state-restored' });
      }
      if (sequence?.shadow) await this.runShadow(sequence);
      else {
        handle.transition({ type: 'start-signal' });
        this.broadcast({ type: 'start' });
      }
      sequence?.started?.(this.restoreControl());
      await this.startCheckpointing();
      const results = await Promise.race([Promise.all(this.pending), this.failed]);
      this.driver?.close();
      await this.driver?.drain();
      if (this.canceled) throw new JobCanceledError(handle.jobId);
      const failedWorker = results.find((r) => r.error !== undefined) ?? results.find((r) => r.outcome !== 'finished');
      if (failedWorker) {
        const cause = failedWorker.error
          ? reviveWorkerFailure(failedWorker.error, failedWorker.workerIndex)
          : new WorkerFailureError(failedWorker.workerIndex, `ended ${failedWorker.outcome}`);
        this.fail(cause);
        throw this.failure ?? cause;
      }
      await this.shutdown();
      if (this.stopping) return { kind: 'stopped', mode: this.stopping.mode, checkpointId: this.stopping.id, results };
      return { kind: 'finished', results };
    } catch (error) {
      this.failedInStandby = this.standby.checkpointId !== undefined;
      // Record the first cause before workers are stopped: their own endings are consequences.
      if (!this.canceled) this.fail(error);
      await this.ctx.startSequence?.abort?.(this.failure ?? error);
      this.driver?.abandon(`the attempt ended: ${(this.failure as Error)?.message ?? 'canceled'}`);
      this.driver?.close();
      await this.driver?.drain();
      const settled = await this.settleWorkers();
      await this.shutdown();
      const results = settled.length === plan.workers ? settled : [];
      if (this.canceled) return { kind: 'canceled', results };
      return { kind: 'failed', error: this.failure ?? error, results };
    }
  }

  /**
   * Shadow mode: the job starts in SHADOW (its sinks write to their shadow side; no checkpoint, nothing
   * in the job directory is written) while the start sequence decides the cut. At the cut the sinks
   * recover the running job's stop checkpoint, and the first checkpoint (the cut's) switches them live.
   */
  private async runShadow(sequence: StartSequence): Promise<void> {
    const { handle, jobStorage, graph, plan, checkpointing } = this.ctx;
    if (!jobStorage) throw new JobConfigError('handover', 'shadow mode needs checkpoint storage');
    const shadow = new ShadowRun({
      jobId: handle.jobId,
      jobStorage,
      graph,
      plan,
      checkpointing,
      send: (workerIndex, command) => this.send(this.controls[workerIndex], command),
      broadcast: (command) => this.broadcast(command),
      progress: () => progressByOperator(this.latestMetrics),
      failed: this.failed,
    });
    this.shadowRun = shadow;
    // Asked to stop while it was starting: a shadow has nothing to stop with, it ends.
    if (this.stopRequest) this.cancel();
    handle.transition({ type: 'shadow-start' });
    this.broadcast({ type: 'start' });
    const cut = await Promise.race([sequence.shadow!(shadow.control()), this.failed]);
    await shadow.prepareCut(cut.from.checkpointId + 1, this.planWorkerRestores(cut.from));
    // The running job's stop checkpoint is where this run's checkpoints continue (the fence's `previousCheckpoint`).
    this.restoredCheckpoint = cut.from.checkpointId;
    this.cutPositions = cut.positions;
    handle.transition({ type: 'promoted' });
  }

  /** Every run says where its state came from: the 'restore' event (the CLI prints it). */
  private reportRestore(requested: RestoreFrom | 'handover' | undefined): void {
    const jobDir = this.ctx.jobStorage?.uri;
    const checkpointId = this.restoredCheckpoint;
    this.ctx.handle.emit('restore', { checkpointId, jobDir, requested, restart: this.ctx.restart === true, message: restoreMessage(checkpointId, jobDir, requested) });
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.driver?.close();
    this.broadcast({ type: 'cancel' });
    this.failureSignal(new JobCanceledError(this.ctx.handle.jobId));
  }

  /** Stop with a final checkpoint; before checkpointing started, the request waits for it. */
  stop(mode: 'suspend' | 'terminate'): void {
    // In shadow (before the cut) nothing is the job's to checkpoint or commit: a stop ends it at once.
    if (this.shadowRun && this.cutPositions === undefined) this.cancel();
    // On standby the stop checkpoint is taken already: a stop ends the job there.
    else if (this.standby.checkpointId !== undefined) this.standby.end();
    else if (this.driver) this.driver.requestStop(mode);
    else this.stopRequest = mode;
  }

  get hasCheckpointing(): boolean {
    return this.ctx.checkpointing !== undefined;
  }

  liveWorkerThreads(): number {
    return this.pool?.liveThreads ?? 0;
  }

  /** A checkpoint on demand (see JobHandle.checkpoint): its id, or undefined when none will come. */
  async requestCheckpoint(): Promise<number | undefined> {
    await Promise.race([this.checkpointing, this.failed]);
    return this.driver?.requestCheckpoint();
  }

  private async startCheckpointing(): Promise<void> {
    try {
      await this.runCheckpointDriver();
    } finally {
      this.checkpointingStarted();
    }
  }

  private async runCheckpointDriver(): Promise<void> {
    const { checkpointing, jobStorage, plan, graph, handle, options } = this.ctx;
    if (!checkpointing || !jobStorage) return;
    const firstId = Math.max(await this.ctx.firstCheckpointId(), (this.restoredCheckpoint ?? 0) + 1);
    const tasks = plan.tasks.flatMap((t) => Array.from({ length: t.parallelism }, (_, i) => `${t.id}/${i}`));
    this.driver = new CheckpointDriver({
      jobId: handle.jobId,
      settings: checkpointing,
      maxParallelism: plan.maxParallelism,
      tasks,
      parallelism: new Map(graph.nodes.map((n) => [n.uid, n.parallelism])),
      firstId,
      passedOver: this.ctx.passedOver?.(),
      runId: handle.runId,
      restoredFrom: this.restoredCheckpoint,
      onFenced: (error) => this.fail(error),
      // After a restart the stop checkpoint may have died with the last attempt: like a failed one, the next replaces it.
      stopAfter: options.stopAfterCheckpoint === undefined ? undefined : this.ctx.restart ? Math.max(options.stopAfterCheckpoint, firstId) : options.stopAfterCheckpoint,
      persistence: new StorageCheckpointPersistence(jobStorage, { retain: checkpointing.retain, runId: handle.runId, onSweep: (outcome) => handle.emit('storage-sweep', outcome) }),
      broadcast: (command) => this.broadcast(command),
      onCompleted: (stats) => {
        this.resolveFirstCheckpoint(stats.id);
        this.ctx.onCheckpoint(stats);
      },
      onFailed: (stats) => {
        this.ctx.onCheckpoint(stats);
        // The cut's checkpoint must complete: its barrier switched the sinks live, and nothing of the shadow side can be taken back.
        if (this.cutPositions !== undefined && stats.id === firstId) this.fail(new ShadowCutFailedError(stats.id, stats.failure ?? 'it failed'));
      },
      ...(this.cutPositions !== undefined ? { cut: this.cutPositions } : {}),
      progress: () => checkpointProgress(this.latestMetrics, this.progressAt),
      onStopping: (id, mode) => this.onStopCheckpoint(id, mode),
      failJob: (reason) => this.fail(new CheckpointFailuresExceededError(handle.jobId, reason)),
      onStopAfterRejected: (id, reason) => this.ctx.handle.emit('stop-request', { afterCheckpoint: id, accepted: false, reason }),
      onFinalTriggered: (id) => this.ctx.handle.emit('end-of-input', { at: Date.now(), finalCheckpoint: id }),
    });
    this.driver.start();
    // Sources may have ended before checkpointing started (an empty input, a restore of a final checkpoint).
    if (this.allInputEnded()) this.driver.endOfInput();
    if (this.stopRequest) this.driver.requestStop(this.stopRequest);
    this.responder = this.ctx.stopRequests?.(this.runningJobControl(jobStorage));
  }

  /** A stop checkpoint completed: a handover's predecessor stands by (warm, sources paused); any other stop ends the job. */
  private onStopCheckpoint(id: number, mode: StopMode): void {
    this.stopping = { id, mode };
    if (mode === 'after' && this.responder?.stopCompleted(id) === 'standby') this.standby.enter(id);
    else this.broadcast({ type: 'stop' });
  }

  private runningJobControl(jobStorage: CheckpointStorage): RunningJobControl {
    const driver = this.driver!;
    return {
      jobId: this.ctx.handle.jobId,
      runId: this.ctx.handle.runId,
      jobStorage,
      restart: this.ctx.restart === true,
      nextCheckpointId: () => driver.nextId,
      // The successor's run id is the stop checkpoint's `nextOwner` (the fence's metadata field):
      // only that run may take over from it.
      stopAtOnce: (nextOwner) => driver.requestStopAtOnce(nextOwner),
      stopAfter: (id, nextOwner) => driver.requestStopAfter(id, nextOwner),
      withdrawStop: (id) => driver.withdrawStopAfter(id),
      end: () => this.standby.end(),
      resume: (reason) => {
        this.stopping = undefined;
        return this.standby.resume(reason);
      },
      emit: (event, payload) => this.ctx.handle.emit(event, payload),
    };
  }

  private async restoreWorkers(metadata: CheckpointMetadata | undefined, incremental: boolean): Promise<FollowResult> {
    const restores = metadata ? this.planWorkerRestores(metadata) : undefined;
    this.restoreApplied = { chunks: 0, bytes: 0, reloads: 0 };
    this.controls.forEach((port, i) => this.send(port, { type: 'restore', restore: restores?.[i], incremental }));
    await this.untilAll('restored');
    return this.restoreApplied;
  }

  private restoreControl(): AttemptRestoreControl {
    const { jobStorage, handle } = this.ctx;
    if (!jobStorage) throw new JobConfigError('checkpointStorage', 'a handover needs checkpoint storage');
    return {
      jobId: handle.jobId,
      jobStorage,
      follow: (metadata) => this.followCheckpoint(metadata),
      prefetch: (metadata) => this.prefetchCheckpoint(metadata),
      restore: (metadata) => this.restoreWorkers(metadata, true),
      stateRestored: () => handle.transition({ type: 'state-restored' }),
      failed: this.failed,
      firstRecord: this.firstRecord,
      firstCheckpoint: this.firstCheckpoint,
      fail: (error) => this.fail(error),
    };
  }

  /** Every worker brings its keyed state to `metadata`'s (only new chunks are downloaded). */
  private followCheckpoint(metadata: CheckpointMetadata): Promise<FollowResult> {
    const restores = this.planWorkerRestores(metadata);
    const done = new Promise<FollowResult>((resolve) => {
      this.followWaiter = { id: metadata.checkpointId, arrived: new Set(), chunks: 0, bytes: 0, reloads: 0, resolve };
    });
    this.controls.forEach((port, i) => this.send(port, { type: 'follow', restore: restores[i] }));
    return Promise.race([done, this.failed]);
  }

  private prefetchCheckpoint(metadata: CheckpointMetadata): void {
    let restores: WorkerRestore[];
    try {
      restores = this.planWorkerRestores(metadata);
    } catch {
      // Stage 2 checks the checkpoint it restores and reports what is wrong with it.
      return;
    }
    this.controls.forEach((port, i) => this.send(port, { type: 'prefetch', restore: restores[i] }));
  }

  private onFollowed(workerIndex: number, event: { checkpointId: number; chunks: number; bytes: number; reloads: number; missing?: string }): void {
    const waiter = this.followWaiter;
    if (!waiter || waiter.id !== event.checkpointId) return;
    waiter.arrived.add(workerIndex);
    waiter.chunks += event.chunks;
    waiter.bytes += event.bytes;
    waiter.reloads += event.reloads;
    waiter.missing ??= event.missing;
    if (waiter.arrived.size < this.ctx.plan.workers) return;
    this.followWaiter = undefined;
    const { chunks, bytes, reloads, missing } = waiter;
    waiter.resolve(missing === undefined ? { chunks, bytes, reloads } : { chunks, bytes, reloads, missing });
  }

  /** A hook asked for reference data: loaded once (the loader dedupes), the same buffer to every worker. */
  private serveReferenceData(workerIndex: number, requestId: number, uri: string): void {
    const port = this.controls[workerIndex];
    const loader = this.ctx.loadReferenceData;
    if (!loader) {
      const error = new JobConfigError('loadReferenceData', 'this runner has no reference-data loader (use runJob from the baton package)');
      this.send(port, { type: 'reference-data', requestId, error: serializeThrown(error) });
      return;
    }
    // Every worker asks; the loader shares one load, whose progress is reported once.
    const first = !this.referenceUris.has(uri);
    this.referenceUris.add(uri);
    loader(uri, (progress) => first && this.ctx.handle.emit('reference-data', progress)).then(
      (buffer) => this.send(port, { type: 'reference-data', requestId, buffer }),
      (error: unknown) => this.send(port, { type: 'reference-data', requestId, error: serializeThrown(error) }),
    );
  }

  private planWorkerRestores(metadata: CheckpointMetadata): WorkerRestore[] {
    const { graph, plan, options, jobStorage } = this.ctx;
    return planWorkerRestores(metadata, { graph, plan, allowNonRestoredState: options.allowNonRestoredState, jobDir: jobStorage?.uri });
  }


  private launchWorkers(): Promise<WorkerResult>[] {
    const { plan, options, handle } = this.ctx;
    const pool = this.ctx.workers(plan.workers);
    this.pool = pool;
    const ports: Array<Array<{ channelId: number; port: MessagePort }>> = Array.from({ length: plan.workers }, () => []);
    for (const channel of plan.channels) {
      if (channel.fromSubtask === channel.toSubtask || pool.sharesThread) continue;
      const { port1, port2 } = new MessageChannel();
      ports[channel.fromSubtask].push({ channelId: channel.id, port: port1 });
      ports[channel.toSubtask].push({ channelId: channel.id, port: port2 });
    }
    return Array.from({ length: plan.workers }, (_, workerIndex) => {
      const { port1, port2 } = new MessageChannel();
      this.controls.push(port1);
      port1.on('message', (event: WorkerEvent) => this.onWorkerEvent(workerIndex, event));
      const stateDir = join(this.ctx.stateRoot, `worker-${workerIndex}`);
      mkdirSync(stateDir, { recursive: true });
      const launch: WorkerLaunch = {
        jobId: handle.jobId,
        workerIndex,
        buildConfig: { parallelism: options.parallelism, maxParallelism: options.maxParallelism, params: options.params },
        plan,
        tuning: { batchSize: options.batchSize, channelCredits: options.channelCredits },
        control: port2,
        ports: ports[workerIndex],
        metricsIntervalMs: options.metricsIntervalMs,
        state: { backend: options.stateBackend, stateDir, checkpointStorage: this.ctx.checkpointStorageUri, s3: options.s3, storageTimeouts: options.storageTimeouts },
        // Exactly when startCheckpointing runs a coordinator: only then can a final checkpoint come.
        awaitFinalCheckpoint: this.ctx.checkpointing !== undefined && this.ctx.jobStorage !== undefined,
        ...(this.ctx.startSequence?.shadow ? { shadow: { sampleSize: options.handover?.shadow?.sampleSize ?? 100 } } : {}),
      };
      const result = pool.run(launch, ports[workerIndex].map((p) => p.port)).catch((error: unknown) => {
        if (error instanceof JobModuleError) {
          this.fail(error);
          throw error;
        }
        const failure = new WorkerFailureError(workerIndex, `thread ended abnormally: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        this.fail(failure);
        throw failure;
      });
      // A thread can end before anything awaits its result (while hooks, restore or a handover's
      // stages run); the failure reaches the run through fail(), so this rejection is handled here.
      result.catch(() => undefined);
      return result;
    });
  }

  private onWorkerEvent(workerIndex: number, event: WorkerEvent): void {
    switch (event.type) {
      case 'ready':
        this.arrive(event.type, workerIndex);
        return;
      case 'restored':
        if (event.applied) {
          const sum = this.restoreApplied;
          this.restoreApplied = { chunks: sum.chunks + event.applied.chunks, bytes: sum.bytes + event.applied.bytes, reloads: sum.reloads + event.applied.reloads };
        }
        this.arrive(event.type, workerIndex);
        return;
      case 'followed':
        this.onFollowed(workerIndex, event);
        return;
      case 'first-record':
        if (this.standby.firstRecord(event.at)) return;
        if (this.shadowRun?.firstRecord(event.at)) return;
        if (this.firstRecordAt === undefined || event.at < this.firstRecordAt) this.firstRecordAt = event.at;
        this.resolveFirstRecord(event.at);
        return;
      case 'reference-data-request':
        this.serveReferenceData(workerIndex, event.requestId, event.uri);
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
        this.fail(reviveWorkerFailure(event.error, workerIndex));
        return;
      case 'checkpoint-ack':
        this.driver?.onAck(event.id, event.task, event.ack);
        return;
      case 'checkpoint-decline':
        this.driver?.onDecline(event.id, event.task, event.reason);
        return;
      case 'sources-held':
      case 'shadow-sample':
      case 'cut-prepared':
        this.shadowRun?.onWorkerEvent(workerIndex, event);
        return;
      case 'source-finished':
        // Subtasks whose input ended answer checkpoints with their final state; once every source
        // ended, the final checkpoint covers everything and its completion finishes the job.
        this.endedSources.add(event.task);
        if (this.allInputEnded()) this.driver?.endOfInput();
        return;
    }
  }

  private allInputEnded(): boolean {
    const sources = this.ctx.plan.tasks.filter((t) => t.isSource).reduce((n, t) => n + t.parallelism, 0);
    return this.endedSources.size >= sources;
  }

  private emitProgress(): void {
    this.progressAt = Date.now();
    this.ctx.handle.emit('progress', { at: this.progressAt, operators: progressByOperator(this.latestMetrics) });
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined || this.canceled) return;
    this.failure = error;
    this.driver?.close();
    this.broadcast({ type: 'cancel' });
    this.failureSignal(error);
  }

  private arrive(phase: Phase, workerIndex: number): void {
    const set = this.arrived.get(phase) ?? new Set<number>();
    set.add(workerIndex);
    this.arrived.set(phase, set);
    const waiter = this.phaseWaiter;
    if (waiter && waiter.phase === phase && set.size === this.ctx.plan.workers) {
      this.phaseWaiter = undefined;
      waiter.resolve();
    }
  }

  private untilAll(phase: Phase): Promise<void> {
    if ((this.arrived.get(phase)?.size ?? 0) === this.ctx.plan.workers) return Promise.resolve();
    const reached = new Promise<void>((resolve) => {
      this.phaseWaiter = { phase, resolve };
    });
    return Promise.race([reached, this.failed]);
  }

  private send(port: MessagePort, command: CoordinatorCommand): void {
    try {
      port.postMessage(command);
    } catch {
      // The worker already closed its end: it has ended and needs no command.
    }
  }

  private broadcast(command: CoordinatorCommand): void {
    for (const port of this.controls) this.send(port, command);
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
    this.responder?.close();
    for (const port of this.controls) port.close();
    this.controls = [];
    await this.pool?.destroy();
  }
}
