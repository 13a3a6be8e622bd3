// The handle runJob returns: status, status events, progress, cancel, and the final result.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FenceReason } from '../../checkpoint/index.ts';
import { CheckpointRequestError, JobConfigError, JobNotStartedError, rejectUnknownKeys } from '../errors.ts';
import { isTerminal } from '../lifecycle/job-status.ts';
import { type JobEvent, type JobStatus, nextJobStatus, type StatusEvent } from '../lifecycle/job-status.ts';
import type { OperatorMetrics } from '../types.ts';
import type { CheckpointStats } from './checkpoint-driver.ts';
import type { JobResult, SkippedCheckpointReport } from './job-result.ts';
import type { StorageSweepEvent } from './checkpoint-persistence.ts';
import type { RestoreEvent } from './restore-event.ts';
import type { HandoverEvent } from './handover-event.ts';
import type { ReferenceDataProgressEvent } from './start-sequence.ts';
import type { StorageProblemEvent } from './storage-problem-reporter.ts';

/** One operator's counters, summed over its subtasks. */
export interface OperatorProgress extends OperatorMetrics {
  /** Ms its subtasks could not send for lack of credit downstream (summed; the whole chain's figure). */
  backpressuredMs: number;
}

/** Records in/out and back-pressure per operator uid, summed over subtasks, as last reported by the workers. */
export interface JobProgress {
  readonly at: number;
  readonly operators: Readonly<Record<string, OperatorProgress>>;
}

/** A restore passed over newer checkpoints that cannot be used; `message` says so for a log. */
export interface RestoreFallbackEvent {
  /** The checkpoint restored instead (undefined: none was left, the job starts empty). */
  readonly checkpointId: number | undefined;
  readonly skipped: readonly SkippedCheckpointReport[];
  readonly message: string;
}

/** The job handle's `fenced` event (see FencedError). */
export interface FencedEvent {
  readonly checkpointId: number;
  readonly runId: string | undefined;
  readonly reason: FenceReason;
  readonly message: string;
}

/** Something about the job that works but is likely a mistake, reported once when it starts. */
export interface JobWarningEvent {
  /** `missing-uid`: a stateful operator of a checkpointing job has no explicit `.uid(...)`. */
  readonly code: 'missing-uid';
  readonly operatorUid: string;
  readonly message: string;
}

export interface JobHandleControl {
  cancel(): Promise<void>;
  stop(mode: 'suspend' | 'terminate'): Promise<JobResult>;
  liveWorkerThreads(): number;
  /** A checkpoint on demand: its id, or undefined when the job takes none any more. */
  requestCheckpoint(): Promise<number | undefined>;
  /** Shadow mode: promote now (false: this job is not a shadow deployment). */
  promote?(): boolean;
}

/**
 * A running job.
 *
 * @example
 * const job = await runJob(new URL('./job.ts', import.meta.url), { parallelism: 2 });
 * job.on('status', (e) => console.log(e.status));
 * const result = await job.done;
 */
export class JobHandle extends EventEmitter {
  private current: JobStatus = 'CREATED';
  private readonly history: StatusEvent[] = [];
  readonly done: Promise<JobResult>;
  private settle!: { resolve: (r: JobResult) => void; reject: (e: unknown) => void };
  private control: JobHandleControl | undefined;

  /**
   * Identifies this run of the job (one `runJob` call, across its restarts) in checkpoint storage:
   * its checkpoints, its stop requests and the ownership of the job directory name it.
   */
  readonly runId: string;

  constructor(
    readonly jobId: string,
    runId: string = randomUUID(),
  ) {
    super();
    this.runId = runId;
    this.done = new Promise<JobResult>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A caller that only watches status events must not get an unhandled rejection.
    this.done.catch(() => {});
    this.history.push({ status: 'CREATED', previous: null, at: Date.now() });
  }

  get status(): JobStatus {
    return this.current;
  }

  /** Every transition so far, with timestamps, CREATED first. */
  get statusHistory(): readonly StatusEvent[] {
    return this.history;
  }

  override on(event: 'status', listener: (event: StatusEvent) => void): this;
  override on(event: 'progress', listener: (progress: JobProgress) => void): this;
  override on(event: 'checkpoint', listener: (stats: CheckpointStats) => void): this;
  /** Deployment B of a handover: each step (stage 1, followed checkpoints, target moves, stage 2, downtime). */
  override on(event: 'handover', listener: (event: HandoverEvent) => void): this;
  /** Loading reference data for a pre-state-load hook (once per URI for all workers). */
  override on(event: 'reference-data', listener: (progress: ReferenceDataProgressEvent) => void): this;
  /** Every source read all its input: the final checkpoint was triggered (again for each retry); the job finishes once it completes. */
  override on(event: 'end-of-input', listener: (event: { at: number; finalCheckpoint: number }) => void): this;
  /** A stop request read from storage (accepted), or one that came too late (rejected, with the reason). */
  override on(event: 'stop-request', listener: (event: { afterCheckpoint?: number; accepted: boolean; reason?: string }) => void): this;
  /**
   * Once per attempt, just before it processes: the checkpoint restored (`checkpointId`, with
   * `restoreFrom` or a handover), or that the job started empty (`checkpointId` undefined).
   */
  override on(event: 'restore', listener: (event: RestoreEvent) => void): this;
  /** A restore passed over unusable newer checkpoints (`restoreFrom: 'latest-valid'`): output committed after the restored one may repeat. */
  override on(event: 'restore-fallback', listener: (event: RestoreFallbackEvent) => void): this;
  /**
   * A sweep of the job directory (retention, failed checkpoints, orphaned chunks, temp files): at
   * a takeover (`takeover: true`, when a run restores from the directory) and after completed
   * checkpoints; `error` when it could not finish (leftovers wait for the next one).
   */
  override on(event: 'storage-sweep', listener: (event: StorageSweepEvent) => void): this;
  /**
   * Another run owns the job directory: this run's checkpoint `checkpointId` was not committed
   * (no sink commits it), or (a handover) the checkpoint B would take over from names another run.
   * Emitted once, just before the job ends FAILED with the FencedError (`BATON_ERR_FENCED`); a
   * fenced run is never restarted.
   */
  override on(event: 'fenced', listener: (event: FencedEvent) => void): this;
  /** A periodic storage call of the coordinator fails (first failure, then at most every 30 s), or works again. */
  override on(event: 'storage-problem', listener: (event: StorageProblemEvent) => void): this;
  /** Emitted before the job starts, once per finding (e.g. a stateful operator without an explicit uid when checkpointing). */
  override on(event: 'warning', listener: (event: JobWarningEvent) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /**
   * Stops with a final checkpoint: `suspend` ends SUSPENDED (state kept for a restore),
   * `terminate` first emits the maximum watermark so windows fire, and ends FINISHED.
   */
  stop(options: { mode: 'suspend' | 'terminate' } = { mode: 'suspend' }): Promise<JobResult> {
    if (!this.control) return Promise.reject(new JobNotStartedError(this.jobId));
    try {
      rejectUnknownKeys('stop ', options, ['mode']);
      if (options.mode !== 'suspend' && options.mode !== 'terminate') throw new JobConfigError('stop mode', `must be 'suspend' or 'terminate', got ${JSON.stringify(options.mode)}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.control.stop(options.mode);
  }

  /**
   * Takes a checkpoint now (or as soon as the running one completes), whatever the interval, and
   * resolves with its statistics once it completed (sinks committed what it covers). Rejects with
   * a CheckpointRequestError when it failed or the job ends first. Waits for RUNNING if the job is
   * still starting.
   *
   * @example
   * const stats = await job.checkpoint();
   * console.log(`checkpoint ${stats.id}: ${stats.stateBytes} bytes`);
   */
  async checkpoint(): Promise<CheckpointStats> {
    if (!this.control) throw new JobNotStartedError(this.jobId);
    const seen: CheckpointStats[] = [];
    const onCheckpoint = (stats: CheckpointStats) => seen.push(stats);
    // Listening before asking: the answer can never be missed, however fast it comes.
    this.on('checkpoint', onCheckpoint);
    try {
      const id = await this.control.requestCheckpoint();
      if (id === undefined) throw new CheckpointRequestError(this.jobId, `the job takes no more checkpoints (status ${this.current})`);
      return await new Promise<CheckpointStats>((resolve, reject) => {
        const check = (): boolean => {
          const done = seen.find((c) => c.id >= id && c.status === 'COMPLETED');
          if (done) resolve(done);
          const failed = seen.find((c) => c.id === id && c.status === 'FAILED');
          if (!done && failed) reject(new CheckpointRequestError(this.jobId, failed.failure ?? 'it failed', id));
          return done !== undefined || failed !== undefined;
        };
        if (check()) return;
        const onStats = () => {
          if (check()) cleanup();
        };
        const onStatus = (e: StatusEvent) => {
          if (!isTerminal(e.status) || check()) return;
          cleanup();
          reject(new CheckpointRequestError(this.jobId, `the job ended ${e.status} first`, id));
        };
        const cleanup = () => {
          this.off('checkpoint', onStats);
          this.off('status', onStatus);
        };
        this.on('checkpoint', onStats);
        this.on('status', onStatus);
      });
    } finally {
      this.off('checkpoint', onCheckpoint);
    }
  }

  /**
   * A shadow deployment (`handover: { mode: 'shadow' }`): asks for its promotion now, whatever
   * `promoteAfterMs` says. The promotion guard is asked first; then the output switches at a cut.
   * Throws when this job is not a shadow deployment; does nothing once promotion began.
   *
   * @example b.on('status', (e) => e.status === 'SHADOW' && setTimeout(() => b.promote(), 5_000));
   */
  promote(): void {
    if (!this.control?.promote?.()) throw new JobConfigError('promote', `job '${this.jobId}' is not a shadow deployment (handover: { mode: 'shadow' })`);
  }

  /** Stops the job; `done` then resolves with status CANCELED. */
  cancel(): Promise<void> {
    return this.control?.cancel() ?? Promise.resolve();
  }

  /** Worker threads of this job still alive (0 once `done` has settled). */
  liveWorkerThreads(): number {
    return this.control?.liveWorkerThreads() ?? 0;
  }

  /** @internal */
  attach(control: JobHandleControl): void {
    this.control = control;
  }

  /** @internal Applies a lifecycle event and emits the status change. */
  transition(event: JobEvent): JobStatus {
    const previous = this.current;
    const status = nextJobStatus(previous, event);
    this.current = status;
    const change: StatusEvent = { status, previous, at: Date.now() };
    this.history.push(change);
    this.emit('status', change);
    return status;
  }

  /** @internal */
  resolve(result: JobResult): void {
    this.settle.resolve(result);
  }

  /** @internal */
  reject(error: unknown): void {
    this.settle.reject(error);
  }
}
