// What a handover can do with an attempt: B's start sequence (between its hooks and RUNNING), A's stop-request responder.
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { ShadowSample } from '../operators/shadow-output.ts';
import type { CutPositions, HeldSplit } from '../task/source-cut.ts';
import type { OperatorProgress } from './job-handle.ts';

export type { ShadowSample } from '../operators/shadow-output.ts';
export type { CutPositions, HeldSplit } from '../task/source-cut.ts';

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
  /**
   * Shadow mode. Present: once `prepare` returned (stage 1: the running job's newest checkpoint),
   * the attempt starts in SHADOW (sinks write to their shadow side, no checkpoint is taken, nothing
   * of the job directory is written) and calls this; it resolves with the cut (the running job's
   * stop checkpoint), where the attempt switches its output to live and starts RUNNING, or rejects
   * (a refused promotion, a failure) and the job ends.
   */
  shadow?(control: ShadowControl): Promise<ShadowCut>;
  /** Shadow mode: the live deployment asked for promotion now (JobHandle.promote). */
  promote?(): void;
}

/** One deployment's counters, as a promotion guard compares them. */
export interface DeploymentMetrics {
  /** When the counters were taken (epoch ms). */
  readonly at: number;
  /** Per operator uid, summed over subtasks, since the deployment's attempt started. */
  readonly operators: Readonly<Record<string, { readonly recordsIn: number; readonly recordsOut: number; readonly lateRecordsDropped?: number }>>;
  /** Late records dropped by window operators, all of them. */
  readonly lateRecordsDropped: number;
  /** The deployment's last processed record (epoch ms), when known. */
  readonly lastRecordAt?: number;
}

/** What a promotion guard sees. */
export interface PromotionGuardContext {
  readonly mode: 'checkpoint' | 'shadow';
  readonly jobId: string;
  /** Shadow mode: what B's sinks wrote in shadow so far (the newest records of each sink subtask); empty in checkpoint mode. */
  readonly sample: { readonly total: number; readonly sinks: readonly ShadowSample[] };
  /** B (this deployment): its counters now. */
  readonly successor: DeploymentMetrics;
  /** A (the running deployment), as of its newest completed checkpoint; undefined when none recorded counters. */
  readonly predecessor: (DeploymentMetrics & { readonly checkpointId: number }) | undefined;
  /** Reference data B's pre-state-load hooks loaded (the same bytes its workers read), or undefined. */
  referenceData(uri: string): SharedArrayBuffer | undefined;
}

/** A guard's answer: `true` (or `{ ok: true }`) promotes; `{ ok: false, reason }` refuses with a reason that is reported (`false`: without one). */
export type PromotionVerdict = boolean | { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * `handover.promotionGuard`: asked before B is promoted (shadow mode) or before it announces
 * itself (checkpoint mode). A refusal keeps A live and stops B.
 *
 * @example
 * const promotionGuard: PromotionGuard = async (ctx) =>
 *   ctx.sample.total > 0 ? true : { ok: false, reason: 'B wrote nothing in shadow' };
 */
export type PromotionGuard = (ctx: PromotionGuardContext) => PromotionVerdict | Promise<PromotionVerdict>;

/** Where each split of every source subtask stands, per source uid (all subtasks together). */
export type HeldPositions = Readonly<Record<string, readonly HeldSplit[]>>;

/** A shadow deployment's running attempt, as the shadow shell in src/handover drives it. */
export interface ShadowControl {
  readonly jobId: string;
  readonly jobStorage: CheckpointStorage;
  /** Every sink subtask's shadow sample; `flush`: shadow destinations are made visible first. */
  sample(flush: boolean): Promise<readonly ShadowSample[]>;
  /** The job's counters as last reported by the workers, per operator uid. */
  progress(): Readonly<Record<string, OperatorProgress>>;
  /** Every source subtask stops reading between two polls; resolves with where each split stands. */
  holdSources(): Promise<HeldPositions>;
  /** The hold ends without a cut: the sources read on. */
  releaseSources(): void;
  /** The uids of the job's sources. */
  readonly sourceUids: readonly string[];
  /** The source's order of offsets (Source.compareOffsets), or undefined when it has none: then it cannot be cut. */
  compareOffsets(sourceUid: string): ((a: unknown, b: unknown) => number) | undefined;
  /** Whether the job takes aligned checkpoints with no alignment timeout (a cut must be an aligned barrier). */
  readonly alignedCheckpoints: boolean;
  /** Rejects once the attempt fails or is canceled. */
  readonly failed: Promise<never>;
  /** Resolves at the first live record after the cut (epoch ms). */
  readonly firstLiveRecord: Promise<number>;
}

/** Where a shadow deployment's output switches to live: right after the running job's stop checkpoint `from`. */
export interface ShadowCut {
  readonly from: CheckpointMetadata;
  /** `from`'s source positions: the shadow side reads exactly up to them, then its output is live. */
  readonly positions: CutPositions;
}

/** A shadow deployment's figures, in HandoverMetrics. */
export interface ShadowMetrics {
  /** The running job's checkpoint the shadow bootstrapped from. */
  readonly bootstrapCheckpoint: number | undefined;
  /** SHADOW began / promotion was asked for / sources held / the cut's barrier went out / the first live record (epoch ms). */
  readonly shadowAt?: number;
  readonly promoteAt?: number;
  readonly heldAt?: number;
  readonly cutAt?: number;
  readonly firstLiveRecordAt?: number;
  /** How long B and A both processed the live input (SHADOW until the cut), ms. */
  readonly overlapMs?: number;
  /** The guard's verdict: 'promote', 'refused' (with reason), or 'timeout' (and what the policy did), and how long it took. */
  readonly guard?: { readonly verdict: 'promote' | 'refused' | 'timeout'; readonly reason?: string; readonly ms: number };
  /** The running job's stop checkpoint the cut is at, and the shadow's first own checkpoint (the cut's). */
  readonly cutCheckpoint?: number;
  /** Records written by the sinks in shadow, all subtasks (at the last sample). */
  readonly shadowRecords: number;
  /** From A's last record before its stop checkpoint to B's first live record, ms (the live output's gap). */
  readonly liveGapMs?: number;
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
  /** `'shadow'`: B ran beside A and was promoted at a cut (see `shadow`); otherwise the checkpoint handover. */
  readonly mode?: 'checkpoint' | 'shadow';
  readonly shadow?: ShadowMetrics;
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
