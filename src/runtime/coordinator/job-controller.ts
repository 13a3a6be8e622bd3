// Drives a job across attempts: restore source, restart strategy, stop and cancel, and the final result.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FencedError } from '../../checkpoint/index.ts';
import { sweepJobDirectory } from '../../checkpoint/index.ts';
import { latestCompleted, listCheckpoints, type SkippedCheckpoint } from '../../checkpoint/index.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { WorkerHostFactory } from './worker-host.ts';
import { JobConfigError } from '../errors.ts';
import { isTerminal } from '../lifecycle/job-status.ts';
import type { CheckpointingConfig, ExecutionPlan, JobGraph } from '../types.ts';
import type { WorkerResult } from '../worker/protocol.ts';
import type { CheckpointStats } from './checkpoint-driver.ts';
import { type AttemptOutcome, JobAttempt } from './job-attempt.ts';
import type { JobHandle, JobHandleControl } from './job-handle.ts';
import { collectSinkResults, type JobResult, type SkippedCheckpointReport, summarizeOperators } from './job-result.ts';
import { checkRestoreAgainstJob } from './restore-checks.ts';
import { isLatest, type ResolvedRestore, type RestoreFrom, resolveRestore, withWhereElse } from './resolve-restore.ts';
import type { ResolvedRunJobOptions } from './run-options.ts';
import type { ReferenceDataLoader, StartSequence, StopRequestResponderFactory } from './start-sequence.ts';

export interface JobControllerInit {
  readonly handle: JobHandle;
  readonly moduleUrl: string;
  /** Where the workers run: piscina threads loading the compiled runtime and the bundled job, or (baton/testing) this thread. */
  readonly workers: WorkerHostFactory;
  readonly graph: JobGraph;
  readonly plan: ExecutionPlan;
  readonly options: ResolvedRunJobOptions;
  readonly checkpointing?: CheckpointingConfig;
  readonly checkpointStorageUri?: string;
  /** The checkpoint storage root (`jobStorage` is `<root>/<jobId>` in it). */
  readonly rootStorage?: CheckpointStorage;
  readonly jobStorage?: CheckpointStorage;
  /** Deployment B of a handover: replaces the restore of the first attempt. */
  readonly startSequence?: StartSequence;
  readonly loadReferenceData?: ReferenceDataLoader;
  /** Answers stop requests in the job directory (a handover's predecessor side). */
  readonly stopRequests?: StopRequestResponderFactory;
}

export { type ResolvedRestore, resolveRestore } from './resolve-restore.ts';

export class JobController implements JobHandleControl {
  private attempt: JobAttempt | undefined;
  private canceled = false;
  private pendingStop: 'suspend' | 'terminate' | undefined;
  private readonly startedAt = Date.now();
  private readonly checkpoints: CheckpointStats[] = [];
  private restoredFrom: number | undefined;
  /** Checkpoints a restore of this run passed over, with why. */
  private readonly skipped: SkippedCheckpointReport[] = [];
  private attempts = 0;
  /** Newer checkpoints the current attempt's restore passed over on purpose (see loadRestore). */
  private passedOver: readonly number[] = [];
  /** Lowest checkpoint id no attempt of this run has used. */
  private nextCheckpointId = 1;
  /** This run restored or completed a checkpoint: a restart that finds none must fail, not start empty. */
  private hadCheckpoint = false;

  constructor(private readonly init: JobControllerInit) {}

  async run(): Promise<void> {
    const { handle, options } = this.init;
    const strategy = options.restartStrategy;
    let restarts = 0;
    for (;;) {
      this.attempts++;
      const stateRoot = options.stateDir ? join(options.stateDir, `attempt-${this.attempts}`) : mkdtempSync(join(tmpdir(), `baton-${handle.jobId}-`));
      // A restart restores the newest checkpoint; it falls back past corrupt ones only if the user
      // allowed that, and starts empty only if this run never had a checkpoint (it failed before its first).
      const restartFrom = options.restoreFrom === 'latest-valid' ? 'latest-valid' : 'latest';
      const first = this.attempts === 1;
      const attempt = this.createAttempt(
        stateRoot,
        first ? options.restoreFrom : this.init.checkpointing ? restartFrom : undefined,
        first ? options.restoreFrom === 'latest-or-empty' : !this.hadCheckpoint,
      );
      this.attempt = attempt;
      if (this.pendingStop) attempt.stop(this.pendingStop);
      let outcome: AttemptOutcome;
      try {
        outcome = await attempt.run();
      } finally {
        rmSync(stateRoot, { recursive: true, force: true });
        if (attempt.restoredCheckpoint !== undefined) this.hadCheckpoint = true;
        this.nextCheckpointId = Math.max(this.nextCheckpointId, attempt.nextCheckpointId ?? 1);
      }
      // A fenced run lost the job directory to another run: a restart would only take it back from its owner.
      // A successor that failed before its first checkpoint handed the job back to the predecessor, and a
      // predecessor that failed on standby may be handing it over: restarting either would run two on the directory.
      const handedBack = this.attempts === 1 && this.init.startSequence?.mayRestart?.() === false;
      const restartable = outcome.kind === 'failed' && !(outcome.error instanceof FencedError) && !handedBack && !attempt.failedInStandby;
      if (restartable && !this.canceled && strategy.type === 'fixedDelay' && restarts < strategy.attempts) {
        restarts++;
        handle.transition({ type: 'restart' });
        await new Promise((resolve) => setTimeout(resolve, strategy.delayMs));
        if (!this.canceled) continue;
        outcome = { kind: 'canceled', results: [] };
      }
      this.finish(outcome, attempt);
      return;
    }
  }

  cancel(): Promise<void> {
    const { handle } = this.init;
    if (!isTerminal(handle.status) && !this.canceled) {
      this.canceled = true;
      this.attempt?.cancel();
    }
    return handle.done.then(
      () => undefined,
      () => undefined,
    );
  }

  stop(mode: 'suspend' | 'terminate'): Promise<JobResult> {
    if (!this.init.checkpointing) {
      return Promise.reject(new JobConfigError('stop', 'stop with a checkpoint needs checkpointing: call env.enableCheckpointing(...) in the job'));
    }
    this.pendingStop = mode;
    this.attempt?.stop(mode);
    return this.init.handle.done;
  }

  liveWorkerThreads(): number {
    return this.attempt?.liveWorkerThreads() ?? 0;
  }

  promote(): boolean {
    const sequence = this.init.startSequence;
    if (!sequence?.promote) return false;
    sequence.promote();
    return true;
  }

  async requestCheckpoint(): Promise<number | undefined> {
    if (!this.init.checkpointing) throw new JobConfigError('checkpoint', 'a checkpoint on demand needs checkpointing: call env.enableCheckpointing(...) in the job');
    // Before the first attempt exists (the very first turn), wait for it.
    while (!this.attempt && !isTerminal(this.init.handle.status)) await new Promise((resolve) => setImmediate(resolve));
    return this.attempt?.requestCheckpoint();
  }

  /** `'latest-valid'` passed over newer checkpoints: a warning event now, and the list in the result. */
  private reportSkipped(checkpointId: number | undefined, skipped: readonly SkippedCheckpoint[]): void {
    const entries = skipped.map((s) => ({ id: s.id, reason: s.error.message }));
    for (const e of entries) if (!this.skipped.some((k) => k.id === e.id)) this.skipped.push(e);
    const names = entries.map((e) => `chk-${e.id}`).join(', ');
    const restored = checkpointId === undefined ? 'no checkpoint is left: the job starts from an empty state' : `restoring checkpoint ${checkpointId}`;
    const message = `passed over unusable checkpoint(s) ${names}; ${restored}. Output committed after ${checkpointId === undefined ? 'the start' : `checkpoint ${checkpointId}`} may repeat. Reasons: ${entries.map((e) => `chk-${e.id}: ${e.reason}`).join('; ')}`;
    this.init.handle.emit('restore-fallback', { checkpointId, skipped: entries, message });
  }

  private createAttempt(stateRoot: string, restoreFrom: RestoreFrom | undefined, allowEmpty: boolean): JobAttempt {
    const { jobStorage } = this.init;
    const check = jobStorage ? checkRestoreAgainstJob(this.init.graph, jobStorage.uri) : () => {};
    // Resolved before any worker thread starts (planRestore), so what depends only on storage fails
    // at once; resolved again after the hooks only if a newer checkpoint completed meanwhile.
    let planned: ResolvedRestore | undefined;
    return new JobAttempt({
      handle: this.init.handle,
      moduleUrl: this.init.moduleUrl,
      workers: this.init.workers,
      graph: this.init.graph,
      plan: this.init.plan,
      options: this.init.options,
      jobStorage,
      checkpointStorageUri: this.init.checkpointStorageUri,
      checkpointing: this.init.checkpointing,
      stateRoot,
      restoreFrom,
      planRestore: async () => {
        if (restoreFrom === undefined || !jobStorage) return undefined;
        const root = this.init.rootStorage;
        const resolved = await resolveRestore(jobStorage, restoreFrom, check, allowEmpty).catch((error: unknown) => (root ? withWhereElse(error, root, jobStorage.uri) : Promise.reject(error)));
        planned = resolved;
        this.checkStopAfter(resolved.metadata);
        return resolved.metadata;
      },
      loadRestore: async () => {
        if (restoreFrom === undefined || !jobStorage) return undefined;
        let resolved = planned;
        if (!resolved || (isLatest(restoreFrom) && (await latestCompleted(jobStorage)) !== resolved.newestCompleted)) {
          resolved = await resolveRestore(jobStorage, restoreFrom, check, allowEmpty);
        }
        const { metadata, skipped } = resolved;
        this.restoredFrom = metadata?.checkpointId;
        if (skipped.length > 0) this.reportSkipped(metadata?.checkpointId, skipped);
        // Newer checkpoints passed over on purpose are history for the fence, not another run's
        // doing: the corrupt ones `latest-valid` skipped, and every newer one of an explicit
        // (older) checkpoint. With 'latest' none is: a newer one appearing later was written by a
        // run still alive, and fences this one.
        const explicit = !isLatest(restoreFrom);
        const newer = explicit && metadata ? (await listCheckpoints(jobStorage)).filter((c) => c.status === 'COMPLETED' && c.id > metadata.checkpointId).map((c) => c.id) : [];
        this.passedOver = [...skipped.map((s) => s.id), ...newer];
        this.checkStopAfter(metadata);
        if (metadata) await this.takeOver(jobStorage, metadata.checkpointId);
        return metadata;
      },
      firstCheckpointId: async () => {
        // Never reuse an id an earlier attempt triggered: a late write of the dead attempt could
        // otherwise land in the new checkpoint of the same number.
        const used = this.nextCheckpointId;
        if (!jobStorage) return used;
        const ids = (await listCheckpoints(jobStorage)).map((c) => c.id);
        return Math.max(used, ids.length === 0 ? 1 : Math.max(...ids) + 1);
      },
      passedOver: () => this.passedOver,
      onCheckpoint: (stats) => {
        if (stats.status === 'COMPLETED') this.hadCheckpoint = true;
        this.checkpoints.push(stats);
        this.init.handle.emit('checkpoint', stats);
      },
      // After a restart, B is an ordinary job: it restores its own latest checkpoint.
      startSequence: this.attempts === 1 ? this.init.startSequence : undefined,
      restart: this.attempts > 1,
      loadReferenceData: this.init.loadReferenceData,
      stopRequests: this.init.stopRequests,
    });
  }

  private checkStopAfter(metadata: CheckpointMetadata | undefined): void {
    const stopAfter = this.init.options.stopAfterCheckpoint;
    if (metadata && stopAfter !== undefined && stopAfter <= metadata.checkpointId) {
      throw new JobConfigError('stopAfterCheckpoint', `${stopAfter} is not after the restored checkpoint ${metadata.checkpointId}`);
    }
  }

  /**
   * A run that restores from a job directory owns it from now on: retention applies to every
   * completed checkpoint in it (not only this run's), and what dead attempts or runs left (failed
   * checkpoints, orphaned chunks and spill segments, temp files of torn writes) is swept. Nothing of
   * this run exists yet (no spill log either), so anything unreferenced is garbage; the checkpoint
   * being restored stays. Folders and chunks of checkpoints after the restored one stay until this
   * run completes a newer checkpoint: the highest id in the directory is what keeps this run from
   * reusing the id of a dead run's checkpoint, whose late writes could land in it.
   * A failed sweep is reported and the restore goes on: leftovers cost space, not correctness.
   */
  private async takeOver(jobStorage: CheckpointStorage, restored: number): Promise<void> {
    const checkpointing = this.init.checkpointing;
    if (!checkpointing) return;
    const scope = { retain: checkpointing.retain, activeFrom: restored + 1, spillSegments: true, temporariesBefore: Date.now(), pinned: [restored] };
    try {
      this.init.handle.emit('storage-sweep', { report: await sweepJobDirectory(jobStorage, scope), takeover: true });
    } catch (error) {
      this.init.handle.emit('storage-sweep', { error, takeover: true });
    }
  }

  private finish(outcome: AttemptOutcome, attempt: JobAttempt): void {
    const { handle } = this.init;
    switch (outcome.kind) {
      case 'finished':
        handle.transition({ type: 'input-ended' });
        handle.resolve(this.result(outcome.results, attempt));
        return;
      case 'stopped':
        handle.transition(outcome.mode === 'terminate' ? { type: 'input-ended' } : { type: 'suspended' });
        handle.resolve(this.result(outcome.results, attempt, outcome.checkpointId));
        return;
      case 'canceled':
        if (!isTerminal(handle.status)) handle.transition({ type: 'cancel' });
        handle.resolve(this.result(outcome.results, attempt));
        return;
      case 'failed':
        // Whether the commit point or a handover's check found it: said once, before the job ends FAILED.
        if (outcome.error instanceof FencedError) {
          const { checkpointId, runId, reason, message } = outcome.error;
          handle.emit('fenced', { checkpointId, runId, reason, message });
        }
        if (!isTerminal(handle.status)) handle.transition({ type: 'fail', error: outcome.error });
        handle.reject(outcome.error);
        return;
    }
  }

  private result(results: readonly WorkerResult[], attempt: JobAttempt, stoppedAt?: number): JobResult {
    const { handle, graph } = this.init;
    const reports = results.length > 0 ? results.flatMap((r) => r.operators) : [...attempt.latestMetrics.values()];
    return {
      jobId: handle.jobId,
      status: handle.status,
      durationMs: Date.now() - this.startedAt,
      operators: summarizeOperators(graph, reports),
      collected: collectSinkResults(results),
      channels: results.flatMap((r) => r.channels),
      statusHistory: [...handle.statusHistory],
      hookMs: { ...attempt.hookMs },
      checkpoints: [...this.checkpoints],
      restoredFrom: attempt.restoredCheckpoint ?? this.restoredFrom,
      ...(this.skipped.length > 0 ? { restore: { checkpointId: attempt.restoredCheckpoint ?? this.restoredFrom, skipped: [...this.skipped] } } : {}),
      stoppedAtCheckpoint: stoppedAt,
      attempts: this.attempts,
      ...(attempt.firstRecordAt !== undefined ? { firstRecordAt: attempt.firstRecordAt } : {}),
      ...(this.init.startSequence ? { handover: this.init.startSequence.metrics() } : {}),
      ...(attempt.rollbacks.length > 0 ? { rollbacks: [...attempt.rollbacks] } : {}),
    };
  }
}

