// Deployment B of a handover: stage 1 restore, following the running job's checkpoints, stage 2 at the target.
import { setTimeout as sleep } from 'node:timers/promises';
import { metadataKey } from '../checkpoint/layout.ts';
import { decodeMetadata } from '../checkpoint/metadata/metadata-codec.ts';
import { StorageNotFoundError } from '../checkpoint/storage/errors.ts';
import { type CheckpointEntry, findLatestRestorable, listCheckpoints } from '../checkpoint/status/checkpoint-status.ts';
import { readMetadataSettled, settle } from '../checkpoint/status/settled-metadata.ts';
import { clearStopRequest, handoverReportKey, writeStopRequest } from '../checkpoint/status/stop-request.ts';
import type { CheckpointStorage } from '../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../checkpoint/types.ts';
import type { AttemptRestoreControl, HandoverMetrics, StartSequence } from '../runtime/coordinator/start-sequence.ts';
import { HandoverTargetPassedError, HandoverTimeoutError } from './errors.ts';
import { checkNextOwner } from './next-owner.ts';
import { type FollowerDeps, followNewest, followOrSkip, PinLease } from './follow/index.ts';
import { checkTargetNotStale, initialTargetWatch, newestCompletedOf, stepTargetWatch } from './watcher/index.ts';
import type { TargetWatchState } from './watcher/types.ts';

/** How often B checks the target's `_metadata` once every earlier checkpoint is applied (ms). */
const TARGET_PROBE_MS = 5;

/** `handover` options of runJob, resolved. */
export interface HandoverOptions {
  readonly targetCheckpoint: number;
  readonly timeoutMs: number;
  readonly onTimeout: 'fail' | 'start-from-latest';
  readonly pollMs: number;
  readonly requestStop: boolean;
  readonly allowStaleTarget: boolean;
}

/** One step of a handover, as the job handle's 'handover' events report it. */
export interface HandoverEvent {
  readonly phase: 'stop-requested' | 'stage1-done' | 'followed' | 'follow-skipped' | 'target-moved' | 'stage2-done' | 'downtime';
  readonly at: number;
  readonly checkpointId?: number;
  readonly detail?: string;
  readonly metrics: HandoverMetrics;
}

/**
 * The start sequence of deployment B: runs while A keeps processing, and blocks only for the
 * target's own delta. Steps follow DESIGN.md "Handover"; the waiting is the target watcher's
 * pure state machine fed with listings of the job directory.
 */
export class TwoStageRestore implements StartSequence {
  private m: { -readonly [K in keyof HandoverMetrics]: HandoverMetrics[K] };
  private target: CheckpointMetadata | undefined;
  private requested = false;
  /** B's pin on what it reads (none without a run id): A's retention keeps it. */
  private readonly lease: PinLease | undefined;

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly options: HandoverOptions,
    private readonly emit: (event: HandoverEvent) => void,
    /** When the pre-state-load hooks started (RUNNING_PRE_STATE_HOOKS), to time them. */
    private readonly hooksStartedAt: () => number | undefined,
    /** This deployment's `JobHandle.runId`: put in its stop request, checked against the target's next owner. */
    private readonly runId?: string,
  ) {
    this.lease = runId === undefined ? undefined : new PinLease(storage, runId);
    const t = options.targetCheckpoint;
    this.m = {
      requestedTarget: t,
      targetCheckpoint: t,
      moves: [],
      outcome: 'pending',
      hookMs: 0,
      stage1Checkpoint: undefined,
      stage1Ms: 0,
      stage1Bytes: 0,
      waitMs: 0,
      followedCheckpoints: 0,
      followBytes: 0,
      rangesReloaded: 0,
      stage2Ms: 0,
      stage2Bytes: 0,
      targetReadyBeforeJob: false,
      lastRecordAt: undefined,
      firstRecordAt: undefined,
      downtimeMs: undefined,
    };
  }

  metrics(): HandoverMetrics {
    return { ...this.m, moves: [...this.m.moves] };
  }

  /**
   * Before any thread starts: a target the running job already passed fails here, and the running
   * job is told to stop right after the target (the sooner it knows, the nearer the target can be).
   */
  async begin(): Promise<void> {
    const newest = newestCompletedOf(await listCheckpoints(this.storage));
    if (!this.options.allowStaleTarget) checkTargetNotStale(this.options.targetCheckpoint, newest);
    if (!this.options.requestStop) return;
    await writeStopRequest(this.storage, this.options.targetCheckpoint, 'handover', this.runId);
    this.requested = true;
    this.report('stop-requested', this.options.targetCheckpoint);
  }

  /** B failed before taking over (e.g. a hook threw): withdraw the request so A goes on. */
  async abort(): Promise<void> {
    await this.lease?.release().catch(() => undefined);
    if (this.requested && this.target === undefined) await clearStopRequest(this.storage).catch(() => undefined);
  }

  async prepare(control: AttemptRestoreControl): Promise<CheckpointMetadata | undefined> {
    try {
      return await this.takeOver(control);
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  private async takeOver(control: AttemptRestoreControl): Promise<CheckpointMetadata | undefined> {
    const hooksStarted = this.hooksStartedAt();
    this.m.hookMs = hooksStarted === undefined ? 0 : Date.now() - hooksStarted;
    // Stage 1: the newest completed checkpoint, whatever it is, into local state.
    const stage1Start = Date.now();
    // A corrupt newest checkpoint is an error here too, never silently replaced by an older one;
    // one A discarded meanwhile is replaced by the newer one A completed.
    const follower: FollowerDeps = { storage: this.storage, control, lease: this.lease };
    const stage1 = await followNewest(follower, (s) => this.report('follow-skipped', s.id, s.reason));
    const newest = stage1?.metadata;
    // No stale-target check here (begin() did it): a target that FAILED since may have moved past it.
    let followed = newest?.checkpointId ?? 0;
    if (stage1) {
      this.m.stage1Checkpoint = stage1.metadata.checkpointId;
      this.m.stage1Bytes = stage1.applied.bytes;
    }
    this.m.stage1Ms = Date.now() - stage1Start;
    control.stateRestored();
    this.report('stage1-done', newest?.checkpointId);

    // Waiting: follow every checkpoint A completes until the target does (or moves, or time runs out).
    const waitStart = Date.now();
    let watch: TargetWatchState = initialTargetWatch(this.options.targetCheckpoint, waitStart + this.options.timeoutMs);
    let first = true;
    let startFrom: CheckpointMetadata | undefined;
    let probed: CheckpointMetadata | undefined;
    for (;;) {
      // A probe already saw the target complete: no need to list the whole directory first.
      const listing: CheckpointEntry[] = probed ? [{ id: watch.target, status: 'COMPLETED' }] : await listCheckpoints(this.storage);
      const step = stepTargetWatch(watch, { type: 'observed', at: Date.now(), statuses: listing });
      watch = step.state;
      for (const action of step.actions) {
        if (action.type === 'target-moved') {
          this.m.moves = [...this.m.moves, action.move];
          this.m.targetCheckpoint = action.move.to;
          this.report('target-moved', action.move.to, action.move.reason);
        }
      }
      // Apply completed checkpoints before the target as deltas, oldest first, so stage 2 only has the target's.
      for (const entry of listing) {
        if (entry.status !== 'COMPLETED' || entry.id <= followed || entry.id >= watch.target) continue;
        const outcome = await followOrSkip(follower, entry.id);
        if (outcome.kind === 'vanished') {
          this.report('follow-skipped', entry.id, outcome.reason);
          continue;
        }
        const { applied } = outcome;
        followed = entry.id;
        this.m.followedCheckpoints++;
        this.m.followBytes += applied.bytes;
        this.m.rangesReloaded += applied.reloads;
        this.report('followed', entry.id);
      }
      if (watch.phase === 'ready') {
        this.m.targetReadyBeforeJob = first;
        startFrom = probed?.checkpointId === watch.target ? probed : await readMetadataSettled(this.storage, watch.target);
        // Only a checkpoint the old job stopped after is a safe cutover: after any other, A went on.
        if (!startFrom.endsJob && !this.options.allowStaleTarget) throw new HandoverTargetPassedError(watch.target);
        if (this.runId !== undefined) checkNextOwner(startFrom, this.runId);
        this.m.outcome = 'target';
        break;
      }
      if (watch.phase === 'timed-out') {
        if (this.options.onTimeout === 'fail') throw new HandoverTimeoutError(watch.target, this.options.timeoutMs, watch.targetStatus ?? 'UNKNOWN');
        startFrom = (await findLatestRestorable(this.storage, { fallback: false })).latest?.metadata;
        this.m.outcome = 'timeout-latest';
        if (startFrom) this.m.targetCheckpoint = startFrom.checkpointId;
        break;
      }
      first = false;
      // Next up is the target itself: its completion starts the blocking window, so probe just its
      // `_metadata` every few ms (one cheap request) rather than waiting a whole listing interval.
      if (followed >= watch.target - 1) probed = await Promise.race([this.probeTarget(watch.target), control.failed]);
      else await Promise.race([sleep(this.options.pollMs), control.failed]);
    }
    this.m.waitMs = Date.now() - waitStart;

    // Stage 2: the remaining delta, then operator state, source offsets and channel state.
    const stage2Start = Date.now();
    // A target ends A's run, so nothing discards it; the newest checkpoint taken on a timeout may
    // still be A's (onTimeout 'start-from-latest'): pinned while stage 2 reads it.
    if (startFrom && this.m.outcome === 'timeout-latest') await this.lease?.hold([startFrom.checkpointId]);
    // One round trip: the target's own delta into memory (the state backends' overlays, stored by
    // B's first checkpoint), then operator state, source offsets and channel state.
    const remaining = await control.restore(startFrom);
    this.m.stage2Bytes = remaining.bytes;
    this.m.rangesReloaded += remaining.reloads;
    this.m.stage2Ms = Date.now() - stage2Start;
    this.target = startFrom;
    this.m.lastRecordAt = startFrom?.lastRecordAt;
    if (this.options.requestStop) await clearStopRequest(this.storage).catch(() => undefined);
    // Everything B needs is local now; B's own retention starts with its first checkpoint. Not
    // awaited: the start signal (the end of the downtime) does not wait for a delete.
    void this.lease?.release().catch(() => undefined);
    this.report('stage2-done', startFrom?.checkpointId);
    return startFrom;
  }

  started(control: AttemptRestoreControl): void {
    void control.firstRecord.then(async (at) => {
      this.m.firstRecordAt = at;
      const last = this.target?.lastRecordAt;
      if (last !== undefined) this.m.downtimeMs = at - last;
      this.report('downtime', this.target?.checkpointId);
      // A wrote its last record's time into the target's metadata; B writes its first record's (and
      // the rest of the handover) next to it, so anyone can read the downtime from storage alone.
      const id = this.target?.checkpointId;
      if (id !== undefined) {
        const report = new TextEncoder().encode(JSON.stringify(this.metrics(), null, 2));
        await this.storage.put(handoverReportKey(id), report).catch(() => undefined);
      }
    });
  }

  /**
   * Waits up to one poll interval for checkpoint `id`'s `_metadata`, reading it in the same request
   * that finds it (one GET instead of a HEAD then a GET); undefined if it did not appear.
   */
  private async probeTarget(id: number): Promise<CheckpointMetadata | undefined> {
    const until = Date.now() + this.options.pollMs;
    const every = Math.min(this.options.pollMs, TARGET_PROBE_MS);
    const key = metadataKey(id);
    while (Date.now() < until) {
      try {
        // A `_metadata` still being written may read short (s3rver writes objects in pieces): read again.
        const metadata = await settle(async () => decodeMetadata(await this.storage.get(key), key, this.storage.uri));
        if (metadata.checkpointId === id) return metadata;
      } catch (error) {
        if (!(error instanceof StorageNotFoundError)) throw error;
      }
      await sleep(every);
    }
    return undefined;
  }

  private report(phase: HandoverEvent['phase'], checkpointId?: number, detail?: string): void {
    this.emit({ phase, at: Date.now(), checkpointId, detail, metrics: this.metrics() });
  }
}
