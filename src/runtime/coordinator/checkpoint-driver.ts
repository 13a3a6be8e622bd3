// Runs the pure checkpoint coordinator: a clock tick, worker acks in, storage and worker commands out.
import { initialCoordinatorState, stepCoordinator } from '../../checkpoint/index.ts';
import type { CheckpointSettings, CoordinatorEffect, CoordinatorEvent, CoordinatorState, StopMode } from '../../checkpoint/index.ts';
import { FencedError } from '../../checkpoint/index.ts';
import type { CheckpointMetadata, CheckpointProgress, OperatorSnapshot, TaskStats } from '../../checkpoint/index.ts';
import type { CutPositions } from '../task/source-cut.ts';
import type { CoordinatorCommand, SubtaskAck } from '../worker/protocol.ts';

/** One subtask's part of a checkpoint: the metadata's task statistics plus the subtask's id (`task/subtask`). */
export interface TaskCheckpointStats extends TaskStats {
  readonly task: string;
}

/** Statistics of one checkpoint, as the job handle reports them. */
export interface CheckpointStats {
  readonly id: number;
  readonly status: 'COMPLETED' | 'FAILED';
  readonly triggeredAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly stateBytes: number;
  /** Unaligned checkpoints: bytes of in-flight data persisted. */
  readonly channelStateBytes: number;
  /** Continuous spilling: in-flight input written since the previous checkpoint (all subtasks). */
  readonly spilledBytes: number;
  /** Per subtask (`task/subtask`): synchronous and asynchronous part, bytes written. */
  readonly tasks: readonly TaskCheckpointStats[];
  readonly failure?: string;
  /** When the job last processed a record before this checkpoint (its metadata's `lastRecordAt`). */
  readonly lastRecordAt?: number;
}

/** What the driver needs from storage (metadata, failure markers, cleanup), injected. */
export interface CheckpointPersistence {
  /**
   * The commit point: creates `_metadata` and checks the ownership fence (see MetadataFence);
   * throws a FencedError when another run owns the directory.
   */
  writeMetadata(metadata: CheckpointMetadata, fence: { readonly after: number }): Promise<void>;
  writeFailed(id: number, reason: string): Promise<void>;
  /**
   * Deletes the checkpoints retention dropped. Which shared chunks go with them is decided from
   * storage by the shared-chunk registry (`checkpoint/registry`), the one owner of chunk
   * references: the driver keeps no reference counts of its own.
   */
  discard(ids: readonly number[]): Promise<void>;
  /** Resolves once housekeeping it started on its own (sweeps) has ended. */
  idle?(): Promise<void>;
  /**
   * `true`: housekeeping not started yet (discards, sweeps) waits until `false`, in order; what
   * runs already finishes. A handover's successor is taking over from the same store.
   */
  quiet?(on: boolean): void;
}

export interface CheckpointDriverOptions {
  readonly jobId: string;
  readonly settings: CheckpointSettings;
  readonly maxParallelism: number;
  /** Every subtask (`task/subtask`) that acknowledges a checkpoint. */
  readonly tasks: readonly string[];
  /** Parallelism per operator uid, for the metadata. */
  readonly parallelism: ReadonlyMap<string, number>;
  readonly firstId: number;
  /** Newer checkpoints the restore passed over on purpose: the fence ignores them (see MetadataFence.known). */
  readonly passedOver?: readonly number[];
  /** The run writing (`JobHandle.runId`), recorded in each checkpoint's metadata. */
  readonly runId?: string;
  /** The checkpoint this attempt restored: the first checkpoint's `previousCheckpoint`. */
  readonly restoredFrom?: number;
  /**
   * Another run owns the job directory (the commit point found its checkpoint): the checkpoint is
   * not completed (no sink commits it) and the job must fail with `error`. Without it, failJob.
   */
  readonly onFenced?: (error: FencedError) => void;
  readonly stopAfter?: number;
  readonly persistence: CheckpointPersistence;
  readonly broadcast: (command: CoordinatorCommand) => void;
  readonly onCompleted: (stats: CheckpointStats) => void;
  readonly onFailed: (stats: CheckpointStats) => void;
  readonly onStopping: (id: number, mode: StopMode) => void;
  readonly failJob: (reason: string) => void;
  /** A stop-after request (from outside) that came too late. */
  readonly onStopAfterRejected?: (id: number, reason: string) => void;
  /** The final checkpoint (all input ended) was triggered; called again for each retry. */
  readonly onFinalTriggered?: (id: number) => void;
  readonly now?: () => number;
  /**
   * A shadow deployment's promotion: the first checkpoint (`firstId`) is the cut, its sources
   * read exactly up to these positions before they inject its barrier.
   */
  readonly cut?: CutPositions;
  /** The job's counters now, recorded in each checkpoint's metadata (see CheckpointMetadata.progress). */
  readonly progress?: () => CheckpointProgress | undefined;
}

/** Assembles a checkpoint's metadata from its acknowledgements (pure). */
export function buildMetadata(
  jobId: string,
  id: number,
  triggeredAt: number,
  completedAt: number,
  maxParallelism: number,
  parallelism: ReadonlyMap<string, number>,
  acks: readonly SubtaskAck[],
): CheckpointMetadata {
  const byUid = new Map<string, { keyed: OperatorSnapshot['keyed'][number][]; subtasks: Array<{ subtaskIndex: number; state: unknown }> }>();
  for (const ack of acks) {
    for (const op of ack.operators) {
      const entry = byUid.get(op.uid) ?? { keyed: [], subtasks: [] };
      entry.keyed.push(...op.keyed);
      entry.subtasks.push({ subtaskIndex: ack.subtaskIndex, state: op.state ?? null });
      byUid.set(op.uid, entry);
    }
  }
  const channelState = acks.flatMap((a) => (a.channelState ? [a.channelState] : []));
  const operators: OperatorSnapshot[] = [...byUid.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([uid, e]) => ({
      uid,
      parallelism: parallelism.get(uid) ?? e.subtasks.length,
      keyed: e.keyed.sort((a, b) => a.range.start - b.range.start),
      subtasks: e.subtasks.sort((a, b) => a.subtaskIndex - b.subtaskIndex),
    }));
  const taskStats = acks.map((a) => ({
    uid: a.operators[0]?.uid ?? `task-${a.taskId}`,
    subtaskIndex: a.subtaskIndex,
    unaligned: a.unaligned,
    alignmentMs: Math.round(a.alignmentMs),
    syncMs: Math.round(a.syncMs * 10) / 10,
    asyncMs: Math.round(a.asyncMs * 10) / 10,
    stateBytes: a.stateBytes,
    channelStateBytes: a.channelStateBytes,
    ...(a.spilledBytes > 0 ? { spilledBytes: a.spilledBytes } : {}),
  }));
  // When the job last processed a record before this checkpoint (a handover's downtime starts there).
  const lastRecordAt = Math.max(0, ...acks.map((a) => a.lastRecordAt ?? 0));
  const metadata: CheckpointMetadata = {
    jobId,
    checkpointId: id,
    triggeredAt,
    completedAt,
    maxParallelism,
    operators,
    exclusiveFiles: channelState.map((c) => c.file),
    taskStats,
    ...(lastRecordAt > 0 ? { lastRecordAt } : {}),
  };
  return channelState.length > 0 ? { ...metadata, channelState } : metadata;
}

export class CheckpointDriver {
  private state: CoordinatorState<SubtaskAck>;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;
  private stopped = false;
  /** The checkpoint the next one continues: the restored one, then the last completed one (see CheckpointMetadata.previousCheckpoint). */
  private previous: number | undefined;
  /** Named in the metadata of the stop checkpoint of a stop-after request (the run taking over from it). */
  private nextOwner: string | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The store is kept quiet for a successor's takeover (see quietNow). */
  private quiet = false;
  private draining = false;
  readonly history: CheckpointStats[] = [];

  constructor(private readonly options: CheckpointDriverOptions) {
    this.now = options.now ?? Date.now;
    this.state = initialCoordinatorState<SubtaskAck>(options.firstId, this.now(), options.stopAfter);
    this.previous = options.restoredFrom;
  }

  start(): void {
    const every = Math.max(5, Math.min(50, Math.floor(this.options.settings.intervalMs / 4)));
    this.timer = setInterval(() => this.dispatch({ type: 'tick', now: this.now() }), every);
    this.timer.unref();
    this.dispatch({ type: 'tick', now: this.now() });
  }

  /** No checkpoint is triggered any more (input ended, job ending); running writes still finish. */
  close(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.syncQuiet(false);
  }

  /** Waits for metadata writes, failure markers, discards and sweeps still under way (each bounded by the storage's timeouts). */
  async drain(): Promise<void> {
    // The job ends: what housekeeping waited for the takeover runs now, and nothing makes it wait again.
    this.draining = true;
    this.syncQuiet(false);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.options.persistence.idle?.();
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const untrack = () => this.inFlight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }

  /** Every source read all its input: the final checkpoint goes at once, and its completion finishes the job. */
  endOfInput(): void {
    this.dispatch({ type: 'end-of-input', now: this.now() });
  }

  requestStop(mode: 'suspend' | 'terminate'): void {
    this.dispatch({ type: 'stop', mode, now: this.now() });
  }

  /**
   * End the job right after checkpoint `id` (a stop request from outside). `nextOwner`: the run
   * (a handover's deployment B) allowed to take over; the stop checkpoint's metadata names it, so
   * any other run that tries to take over from it is fenced.
   *
   * @example driver.requestStopAfter(117, request.runId);
   */
  requestStopAfter(id: number, nextOwner?: string): void {
    this.dispatch({ type: 'stop-after', id, now: this.now() });
    // The first request the job accepted names the owner; a later one for the same stop does not replace it.
    if (this.state.stopAfter === id && this.nextOwner === undefined) this.nextOwner = nextOwner;
    this.syncQuiet(false);
  }

  /**
   * A handover successor is ready and waiting: the job ends right after its next checkpoint, which
   * is triggered now (or as soon as the running one completes), not at the next interval.
   * Returns that checkpoint's id. `nextOwner`: the successor's run id, named by the stop checkpoint
   * (see {@link requestStopAfter}).
   */
  requestStopAtOnce(nextOwner?: string): number {
    const id = this.state.nextId;
    this.dispatch({ type: 'stop-after', id, now: this.now(), atOnce: true });
    if (this.state.stopAfter === id && this.nextOwner === undefined) this.nextOwner = nextOwner;
    this.syncQuiet(false);
    return id;
  }

  /**
   * A checkpoint on demand: triggered now, or as soon as the running one ends (the interval does
   * not apply). Returns its id, or undefined when no checkpoint will come (closed, stopped, halted).
   */
  requestCheckpoint(): number | undefined {
    const s = this.state;
    if (this.stopped || s.halted || (s.stopAfter !== undefined && s.nextId > s.stopAfter)) return undefined;
    const id = s.nextId;
    this.dispatch({ type: 'request', now: this.now() });
    return id;
  }

  /** After a stop-after checkpoint the job goes on (the handover rolled back): checkpoints resume, naming no successor. */
  resumeAfterStop(): void {
    this.nextOwner = undefined;
    this.dispatch({ type: 'resume', now: this.now() });
  }

  /** The stop request for `id` was withdrawn (the deployment that asked cannot take over). */
  withdrawStopAfter(id: number): void {
    this.dispatch({ type: 'stop-after-withdrawn', id, fallback: this.options.stopAfter, now: this.now() });
    if (this.state.stopAfter !== id) this.nextOwner = undefined;
  }

  /**
   * Whether housekeeping (retention's discards, sweeps) must wait: from the moment a successor's
   * stop checkpoint is the next one to trigger (or running, or done) until the job resumes. From
   * the stop barrier to the successor's first record is the handover's downtime, and the
   * successor's stage 2 reads the same store (a discard reads the pins and every retained
   * `_metadata`, then deletes; a backlog of them runs for a while on a slow store). Waiting loses
   * nothing: after a rollback (or a withdrawn stop) it runs with the next completed checkpoint,
   * not at the resume (the rollback's own downtime); when the job ends it runs before the end.
   */
  private quietNow(): boolean {
    const stop = this.state.stopAfter ?? this.state.stoppedAfter;
    return this.nextOwner !== undefined && stop !== undefined && stop <= this.state.nextId;
  }

  /**
   * After each step: quiet as soon as quietNow, back to normal only once a checkpoint completed
   * after it stopped being so. Once closed or draining never quiet (a request accepted while the job ends,
   * e.g. after its own stopAfterCheckpoint, must not hold back the housekeeping drain waits for).
   */
  private syncQuiet(completed: boolean): void {
    const ending = this.stopped || this.draining;
    const want = !ending && this.quietNow();
    if (want === this.quiet || (!want && !completed && !ending)) return;
    this.quiet = want;
    this.options.persistence.quiet?.(want);
  }

  /** The checkpoint the job will stop after, if any. */
  get stopAfter(): number | undefined {
    return this.state.stopAfter;
  }

  onAck(id: number, task: string, ack: SubtaskAck): void {
    this.dispatch({ type: 'ack', id, task, snapshot: ack, now: this.now() });
  }

  onDecline(id: number, task: string, reason: string): void {
    this.dispatch({ type: 'decline', id, task, reason, now: this.now() });
  }

  /**
   * The attempt failed: the checkpoint still collecting acknowledgements can never complete, so
   * it is marked FAILED in storage (watchers such as a handover's move on at once).
   */
  abandon(reason: string): void {
    const pending = this.state.pending;
    if (pending) this.dispatch({ type: 'decline', id: pending.id, task: 'coordinator', reason, now: this.now() });
  }

  /** The id the next checkpoint would get: ids below it were used by this driver. */
  get nextId(): number {
    return this.state.nextId;
  }

  get lastCompleted(): number | undefined {
    return this.state.lastCompleted;
  }

  /** Nothing more is triggered or completed; the checkpoint being written is never notified complete. */
  private fenced(error: FencedError): void {
    this.close();
    if (this.options.onFenced) this.options.onFenced(error);
    else this.options.failJob(error.message);
  }

  private dispatch(event: CoordinatorEvent<SubtaskAck>): void {
    // Once closed nothing new starts; what is already being written still completes (and discards).
    if (this.stopped && (event.type === 'tick' || event.type === 'stop')) return;
    const { state, effects } = stepCoordinator(this.state, event, this.options.settings, this.options.tasks);
    this.state = state;
    for (const effect of effects) this.execute(effect);
    this.syncQuiet(event.type === 'metadata-written');
  }

  private execute(effect: CoordinatorEffect<SubtaskAck>): void {
    const o = this.options;
    switch (effect.type) {
      case 'trigger': {
        // Wall-clock trigger time (not the injectable clock): barriers carry it for alignment timeouts in workers.
        const cut = o.cut !== undefined && effect.id === o.firstId ? { cut: o.cut } : {};
        o.broadcast({ type: 'trigger-checkpoint', id: effect.id, at: Date.now(), stop: effect.stop, ...cut });
        if (effect.final) o.onFinalTriggered?.(effect.id);
        return;
      }
      case 'write-metadata': {
        const completedAt = this.now();
        const acks = effect.acks.map((a) => a.snapshot);
        const built = buildMetadata(o.jobId, effect.id, effect.triggeredAt, completedAt, o.maxParallelism, o.parallelism, acks);
        const progress = o.progress?.();
        // A stop-with-checkpoint or the final one: the job processes nothing after it (a handover may take over here).
        const metadata: CheckpointMetadata = {
          ...built,
          ...(effect.stop || effect.final ? { endsJob: true } : {}),
          ...(o.runId === undefined ? {} : { runId: o.runId }),
          ...(this.previous === undefined ? {} : { previousCheckpoint: this.previous }),
          ...(effect.stop === 'after' && this.nextOwner !== undefined ? { nextOwner: this.nextOwner } : {}),
          ...(progress === undefined ? {} : { progress }),
        };
        // A run that started empty continues nothing: anything completed from its first id on is someone else's.
        const fence = { after: this.previous ?? o.firstId - 1, known: o.passedOver };
        const stateBytes = acks.reduce((a, b) => a + b.stateBytes, 0);
        const channelStateBytes = acks.reduce((a, b) => a + b.channelStateBytes, 0);
        const spilledBytes = acks.reduce((a, b) => a + (b.spilledBytes ?? 0), 0);
        const tasks: TaskCheckpointStats[] = (metadata.taskStats ?? []).map((t, i) => ({ task: effect.acks[i].task, ...t }));
        this.track(o.persistence.writeMetadata(metadata, fence)).then(
          () => {
            this.previous = effect.id;
            const stats: CheckpointStats = {
              id: effect.id,
              status: 'COMPLETED',
              triggeredAt: effect.triggeredAt,
              endedAt: this.now(),
              durationMs: this.now() - effect.triggeredAt,
              stateBytes,
              channelStateBytes,
              spilledBytes,
              tasks,
              ...(metadata.lastRecordAt !== undefined ? { lastRecordAt: metadata.lastRecordAt } : {}),
            };
            this.history.push(stats);
            this.dispatch({ type: 'metadata-written', id: effect.id, now: this.now() });
            o.onCompleted(stats);
          },
          (error: unknown) => {
            // Fenced: not a failed checkpoint to retry (its abort would mark the owner's folder FAILED) but the end of this run.
            if (error instanceof FencedError) this.fenced(error);
            else this.dispatch({ type: 'metadata-failed', id: effect.id, reason: (error as Error).message ?? String(error), now: this.now() });
          },
        );
        return;
      }
      case 'notify-complete':
        // Final: the sinks commit their tails, then the subtasks finish (the worker does both in this order).
        o.broadcast(effect.final ? { type: 'checkpoint-complete', id: effect.id, final: true } : { type: 'checkpoint-complete', id: effect.id });
        return;
      case 'abort': {
        const stats: CheckpointStats = {
          id: effect.id,
          status: 'FAILED',
          triggeredAt: Number.NaN,
          endedAt: this.now(),
          durationMs: Number.NaN,
          stateBytes: 0,
          channelStateBytes: 0,
          spilledBytes: 0,
          tasks: [],
          failure: effect.reason,
        };
        this.history.push(stats);
        o.broadcast({ type: 'checkpoint-aborted', id: effect.id });
        this.track(o.persistence.writeFailed(effect.id, effect.reason)).catch(() => {
          // The checkpoint has no _metadata either way: a missing _FAILED only makes it IN_PROGRESS for readers.
        });
        o.onFailed(stats);
        return;
      }
      case 'discard': {
        this.track(o.persistence.discard(effect.ids)).catch(() => {
          // Leftovers only cost space; the next discard or a cleanup run removes them.
        });
        return;
      }
      case 'job-stopping':
        o.onStopping(effect.id, effect.mode);
        return;
      case 'fail-job':
        o.failJob(effect.reason);
        return;
      case 'stop-after-rejected':
        o.onStopAfterRejected?.(effect.id, effect.reason);
        return;
    }
  }
}
