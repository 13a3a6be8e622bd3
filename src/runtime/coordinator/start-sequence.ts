// What a handover can do with an attempt: B's start sequence (between its hooks and RUNNING), A's stop-request responder.
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';

/** Loads reference data once for the job (injected: the loader lives in src/handover). */
export type ReferenceDataLoader = (uri: string, onProgress: (progress: ReferenceDataProgressEvent) => void) => Promise<SharedArrayBuffer>;

/** Progress of a reference-data load, as the job handle's 'reference-data' events report it. */
export interface ReferenceDataProgressEvent {
  readonly uri: string;
  readonly loadedBytes: number;
  readonly totalBytes: number;
}

/** What following one checkpoint downloaded, and how many key-group ranges had to be reloaded from a base. */
export interface FollowResult {
  readonly chunks: number;
  readonly bytes: number;
  readonly reloads: number;
  /**
   * Following only: a shared chunk the checkpoint names was gone (key), so the follow stopped
   * part way. What was applied stays exact chain by chain (each chain continues from what it
   * holds); the caller decides whether the checkpoint was discarded meanwhile or is damaged.
   */
  readonly missing?: string;
}

/** The attempt's side of a start sequence: restore primitives and signals, with the I/O behind them. */
export interface AttemptRestoreControl {
  readonly jobId: string;
  /** The job's directory in checkpoint storage. */
  readonly jobStorage: CheckpointStorage;
  /**
   * Brings every worker's keyed state to `metadata`'s, downloading only chunks not applied
   * before (stage 1 and following). Resolves with what was downloaded, and `missing` if a chunk
   * was gone.
   */
  follow(metadata: CheckpointMetadata): Promise<FollowResult>;
  /**
   * Starts downloading (not applying) the chunks of `metadata` that following has not applied, so
   * a later stage 2 takes them from memory: a checkpoint B passed over while it waits. Returns at
   * once; a checkpoint that cannot be planned, or a download that fails, is left to stage 2.
   */
  prefetch(metadata: CheckpointMetadata): void;
  /**
   * Stage 2: keyed state incrementally (what following did not apply goes to the backends'
   * overlays), then operator state, source offsets and channel state.
   */
  restore(metadata: CheckpointMetadata | undefined): Promise<FollowResult>;
  /** RESTORING → WAITING_FOR_START_SIGNAL. */
  stateRestored(): void;
  /** Rejects once the attempt fails or is canceled: waits race it. */
  readonly failed: Promise<never>;
  /** The job's first processed record after the start signal (epoch ms). */
  readonly firstRecord: Promise<number>;
  /** The id of the job's first completed checkpoint after the start signal (a successor's probation ends there). */
  readonly firstCheckpoint: Promise<number>;
  /** Fails the attempt (e.g. a successor that lost its lease in probation, before its first checkpoint). */
  fail(error: unknown): void;
}

/**
 * Replaces the plain restore of an attempt: runs RESTORING and WAITING_FOR_START_SIGNAL and
 * decides which checkpoint the job starts from. A handover is one.
 */
export interface StartSequence {
  /** Returns the checkpoint restored (stage 2 done), or undefined for an empty start. */
  prepare(control: AttemptRestoreControl): Promise<CheckpointMetadata | undefined>;
  /** Called right after the start signal. */
  started?(control: AttemptRestoreControl): void;
  /** Writes what must be visible before the job starts (e.g. the stop request for the old job). */
  begin?(): Promise<void>;
  /** The attempt failed (before `prepare` finished, e.g. in a hook, or after the start): undo what was announced. */
  abort?(error?: unknown): Promise<void>;
  /** Metrics for the job's result. */
  metrics(): HandoverMetrics;
  /**
   * Whether the job may restart after its first attempt failed: a handover that did not get past
   * its probation may not (the predecessor resumes; a restart would run both on the directory).
   */
  mayRestart?(): boolean;
}

/** What a handover measured, on the job handle's 'handover' events and in the job's result. */
export interface HandoverMetrics {
  /** The target asked for ('when-ready' or a number), and the one taken over at (0 until known). */
  readonly requestedTarget: number | 'when-ready';
  readonly targetCheckpoint: number;
  /** B's run id, which its stop request names. */
  readonly runId?: string;
  /** When B published its stop request (epoch ms); for when-ready, once it was caught up. */
  readonly announcedAt?: number;
  /**
   * When B read the `_metadata` of the checkpoint it takes over from (epoch ms). Stage 2 starts
   * then, or once a follow B started before ends (a checkpoint with a new base it was applying).
   */
  readonly takeoverSeenAt?: number;
  readonly moves: ReadonlyArray<{ readonly from: number; readonly to: number; readonly at: number; readonly reason: string }>;
  /** 'target', or 'timeout-latest' when the timeout started the job from the newest completed checkpoint. */
  readonly outcome: 'target' | 'timeout-latest' | 'pending';
  /** Pre-state-load hooks (RUNNING_PRE_STATE_HOOKS), slowest worker. */
  readonly hookMs: number;
  /** Stage 1: the newest completed checkpoint when B was ready (undefined: none yet). */
  readonly stage1Checkpoint: number | undefined;
  readonly stage1Ms: number;
  readonly stage1Bytes: number;
  /** WAITING_FOR_START_SIGNAL until the target completed, following meanwhile. */
  readonly waitMs: number;
  readonly followedCheckpoints: number;
  /** `when-ready`, after announcing: A's checkpoints before its stop checkpoint, read but not applied (stage 2 applies their delta). */
  readonly passedOverCheckpoints: number;
  readonly followBytes: number;
  /** Key-group ranges following or stage 2 had to reload from a new base (0 when every materialization came with its delta). */
  readonly rangesReloaded: number;
  /** Stage 2: the remaining delta(s), operator state, offsets, channel state. */
  readonly stage2Ms: number;
  readonly stage2Bytes: number;
  /** The target was already complete when B finished stage 1 (normally false: B was ready first). */
  readonly targetReadyBeforeJob: boolean;
  /** A's last processed record before the target (from its metadata) and B's first (epoch ms). */
  readonly lastRecordAt: number | undefined;
  readonly firstRecordAt: number | undefined;
  /** From A's last processed record to B's first. */
  readonly downtimeMs: number | undefined;
}

/**
 * The running job's side of a handover (deployment A), as the stop-request shell in src/handover
 * drives it. The runtime knows nothing of requests, leases or successors: it stops, stands by,
 * ends or resumes when told.
 */
export interface RunningJobControl {
  readonly jobId: string;
  /** This run's id (`JobHandle.runId`): a request naming it is this run's own, not one to obey. */
  readonly runId: string;
  readonly jobStorage: CheckpointStorage;
  /** Not the first attempt of the run (a requested checkpoint may have died with the last one). */
  readonly restart: boolean;
  /** The id the next checkpoint gets. */
  nextCheckpointId(): number;
  /**
   * Stop after the next checkpoint, triggered now. `nextOwner`: the successor's run id, which the
   * stop checkpoint's metadata names (the fence). Returns the checkpoint's id.
   */
  stopAtOnce(nextOwner: string): number;
  /** Stop right after checkpoint `id` (an operator's request, or a successor's fixed target). */
  stopAfter(id: number, nextOwner?: string): void;
  withdrawStop(id: number): void;
  /** After the stop checkpoint: end the job (SUSPENDED). */
  end(): void;
  /** After the stop checkpoint: go on (RUNNING); resolves once the first record after it is processed. */
  resume(reason: string): Promise<RollbackReport>;
  /** Reports on the job handle ('stop-request', 'handover', 'storage-problem' events). */
  emit(event: 'stop-request' | 'handover' | 'storage-problem', payload: unknown): void;
}

/** What the runtime tells the stop-request shell. */
export interface StopRequestResponder {
  /**
   * A stop-after checkpoint completed (the sources are paused after its barrier). 'standby': the
   * shell will call end() or resume() later; 'end': the job ends now as a plain stop.
   */
  stopCompleted(id: number): 'end' | 'standby';
  /** The attempt ended: no more reads, no more calls. */
  close(): void;
}

/** Builds the shell for one attempt (injected by the package's runJob; absent: stop requests are not read). */
export type StopRequestResponderFactory = (control: RunningJobControl) => StopRequestResponder;

/** A handover rolled back: the predecessor resumed after its stop checkpoint (in the job result's `rollbacks`). */
export interface RollbackReport {
  /** The stop checkpoint the job resumed from. */
  readonly checkpointId: number;
  readonly reason: string;
  readonly resumedAt: number;
  /** The job's last record before the stop checkpoint and its first after resuming (epoch ms). */
  readonly lastRecordAt: number | undefined;
  readonly firstRecordAt: number;
  /** From the last record before the stop checkpoint to the first after resuming. */
  readonly downtimeMs: number | undefined;
}
