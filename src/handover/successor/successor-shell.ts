// Deployment B of a handover, the thin shell: storage, clock and the attempt in, the pure protocol's decisions out.
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckpointNotFoundError } from '../../checkpoint/index.ts';
import { removeStopRequestOf, writeLeasedStopRequest } from '../../checkpoint/status/lease-request.ts';
import { type CheckpointEntry, findLatestRestorable, listCheckpoints } from '../../checkpoint/index.ts';
import { readMetadataSettled } from '../../checkpoint/status/settled-metadata.ts';
import { metadataKey } from '../../checkpoint/index.ts';
import { handoverReportKey } from '../../checkpoint/index.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { AttemptRestoreControl, HandoverMetrics, StartSequence } from '../../runtime/coordinator/start-sequence.ts';
import { HandoverAbortedError, HandoverTargetPassedError, HandoverTimeoutError } from '../errors.ts';
import { applyFollowed, type FollowerDeps, followNewest, PinLease } from '../follow/index.ts';
import { checkNextOwner } from '../next-owner.ts';
import type { ShellClock } from '../predecessor/index.ts';
import { initialSuccessor, MAX_PASSED_OVER, type SuccessorEffect, type SuccessorEvent, type SuccessorState, stepHandover } from '../protocol/index.ts';
import { checkTargetNotStale, initialTargetWatch, newestCompletedOf, stepTargetWatch } from '../watcher/index.ts';
import type { TargetWatchState } from '../watcher/types.ts';
import { followStep } from './follow-step.ts';
import { initialHandoverMetrics } from './initial-metrics.ts';
import { renewStopRequestLease } from './lease-renewal.ts';
import { probeCheckpoint } from './probe.ts';
import type { SuccessorHandoverEvent } from '../../runtime/index.ts';
import type { HandoverOptions } from './types.ts';

/** Announced, `when-ready`: B lists the job directory once every this many probe windows (`pollMs` each). */
const LIST_EVERY = 10;

/**
 * Whether some keyed chain of `next` starts with another chunk than the same operator's chain for
 * the same key-group range in `before` (a materialization wrote a new base in between). Without
 * `before`, or for a range `before` did not have, nothing B holds is replaced: false.
 */
function hasNewBase(before: CheckpointMetadata | undefined, next: CheckpointMetadata): boolean {
  if (!before) return false;
  const firsts = new Map<string, string | undefined>();
  for (const op of before.operators) for (const c of op.keyed) firsts.set(`${op.uid}/${c.range.start}-${c.range.end}`, c.chain[0]?.id);
  return next.operators.some((op) =>
    op.keyed.some((c) => {
      const key = `${op.uid}/${c.range.start}-${c.range.end}`;
      return firsts.has(key) && firsts.get(key) !== c.chain[0]?.id;
    }),
  );
}

const systemClock: ShellClock = {
  now: () => Date.now(),
  every: (ms, run) => {
    const timer = setInterval(run, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

type Metrics = { -readonly [K in keyof HandoverMetrics]: HandoverMetrics[K] };

/**
 * The start sequence of deployment B. Its hooks and stage 1 run while A keeps processing; then B
 * follows A's checkpoints and, once caught up in WAITING_FOR_START_SIGNAL, publishes its stop
 * request (run id + lease, renewed until B's first checkpoint completes). A stops at once; B
 * applies the stop checkpoint's delta (stage 2) and starts. Every decision is the pure protocol's
 * (src/handover/protocol); this class reads and writes storage and drives the attempt.
 */
export class HandoverSuccessor implements StartSequence {
  private state: SuccessorState;
  private readonly m: Metrics;
  private target: CheckpointMetadata | undefined;
  private failure: HandoverAbortedError | undefined;
  private attempt: AttemptRestoreControl | undefined;
  private stopLeaseTimer: (() => void) | undefined;
  private renewing = false;
  /** B's pin on the checkpoints it reads: A's retention keeps them while B follows (NO_CLAIM). */
  private readonly lease: PinLease;

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly options: HandoverOptions,
    private readonly runId: string,
    private readonly emit: (event: SuccessorHandoverEvent) => void,
    /** When the pre-state-load hooks started (RUNNING_PRE_STATE_HOOKS), to time them. */
    private readonly hooksStartedAt: () => number | undefined,
    private readonly clock: ShellClock = systemClock,
    /** The promotion guard (handover.promotionGuard), asked after stage 1 while A is live; throws to refuse. */
    private readonly guard?: () => Promise<void>,
  ) {
    this.lease = new PinLease(storage, runId);
    const t = options.targetCheckpoint;
    this.state = initialSuccessor({ runId, target: t, leaseMs: options.leaseMs, at: clock.now() }).state;
    this.m = initialHandoverMetrics(runId, t);
  }

  metrics(): HandoverMetrics {
    return { ...this.m, moves: [...this.m.moves] };
  }

  /** Only a successor past its probation owns the job: before that, A resumes and B must not restart over it. */
  mayRestart(): boolean {
    return this.state.phase === 'done';
  }

  /**
   * Before any thread starts: a fixed target the running job already passed (older than its newest
   * checkpoint, or that very checkpoint without a stop after it) fails here, and its
   * request goes out at once (the sooner A knows, the nearer the target can be). `when-ready`
   * announces nothing yet: B is not ready.
   */
  async begin(): Promise<void> {
    const target = this.options.targetCheckpoint;
    if (target !== 'when-ready' && !this.options.allowStaleTarget) {
      const newest = newestCompletedOf(await listCheckpoints(this.storage));
      checkTargetNotStale(target, newest);
      // Complete already, and the running job went on after it: the same refusal as after stage 1, before any thread starts.
      if (newest === target && !(await readMetadataSettled(this.storage, target)).endsJob) throw new HandoverTargetPassedError(target);
    }
    const init = initialSuccessor({ runId: this.runId, target, leaseMs: this.options.leaseMs, at: this.clock.now() });
    this.state = init.state;
    await this.execute(init.effects);
    this.stopLeaseTimer = this.clock.every(Math.max(20, Math.floor(this.options.leaseMs / 10)), () => void this.dispatch({ type: 'tick', at: this.clock.now() }));
  }

  /** B failed before its first checkpoint completed: withdraw its request so A goes on (or resumes). */
  async abort(error?: unknown): Promise<void> {
    await this.dispatch({ type: 'failed', at: this.clock.now(), reason: (error as Error)?.message ?? 'the attempt failed' });
    this.stopLeaseTimer?.();
    await this.lease.release().catch(() => undefined);
  }

  async prepare(control: AttemptRestoreControl): Promise<CheckpointMetadata | undefined> {
    this.attempt = control;
    try {
      return await this.takeOver(control);
    } catch (error) {
      await this.abort(error);
      throw error;
    }
  }

  started(control: AttemptRestoreControl): void {
    // Everything B needs is local now; B's own retention starts with its first checkpoint. Released
    // once B processes (or checkpoints), not at the start signal: that delete would compete with
    // the first records, the end of the downtime.
    void Promise.race([control.firstRecord, control.firstCheckpoint]).then(
      () => this.lease.release().catch(() => undefined),
      () => undefined,
    );
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
    // Probation ends with B's first checkpoint: only then is B's output committed and A may end.
    void control.firstCheckpoint.then(
      (id) => this.dispatch({ type: 'first-checkpoint', at: this.clock.now(), id }),
      () => undefined,
    );
  }

  private async takeOver(control: AttemptRestoreControl): Promise<CheckpointMetadata | undefined> {
    const hooksStarted = this.hooksStartedAt();
    this.m.hookMs = hooksStarted === undefined ? 0 : this.clock.now() - hooksStarted;
    // Stage 1: the newest completed checkpoint, whatever it is, into local state.
    const stage1Start = this.clock.now();
    // A corrupt newest checkpoint is an error here too, never silently replaced by an older one;
    // one A discarded meanwhile is replaced by the newer one A completed.
    const stage1 = await followNewest(this.follower(control), (skipped) => this.report('follow-skipped', skipped.id, skipped.reason));
    const newest = stage1?.metadata;
    if (stage1) {
      this.m.stage1Checkpoint = stage1.metadata.checkpointId;
      this.m.stage1Bytes = stage1.applied.bytes;
    }
    this.m.stage1Ms = this.clock.now() - stage1Start;
    control.stateRestored();
    this.report('stage1-done', newest?.checkpointId);
    await this.dispatch({ type: 'stage1-done', at: this.clock.now(), applied: newest?.checkpointId });
    this.throwIfAborted();
    // Before B announces itself, A still live: a refusal ends B here (prepare's catch withdraws any request).
    await this.guard?.();

    const startFrom = await this.waitForStopCheckpoint(control, newest);

    // Stage 2: the remaining delta into the backends' restored layers, then operator state, source offsets and channel state.
    const stage2Start = this.clock.now();
    // A stop checkpoint ends A's run, so nothing discards it; the newest checkpoint taken on a
    // timeout may still be A's (onTimeout 'start-from-latest'): pinned while stage 2 reads it.
    if (startFrom && this.m.outcome === 'timeout-latest') await this.lease.hold([startFrom.checkpointId]);
    const remaining = await control.restore(startFrom);
    this.m.stage2Bytes = remaining.bytes;
    this.m.rangesReloaded += remaining.reloads;
    this.m.stage2Ms = this.clock.now() - stage2Start;
    this.target = startFrom;
    this.m.lastRecordAt = startFrom?.lastRecordAt;
    this.throwIfAborted();
    await this.dispatch({ type: 'stage2-done', at: this.clock.now() });
    this.report('stage2-done', startFrom?.checkpointId);
    return startFrom;
  }

  /**
   * WAITING_FOR_START_SIGNAL: follow every checkpoint A completes; `when-ready` announces once
   * caught up, then waits only for A's stop checkpoint (see awaitStopCheckpoint); a fixed target
   * follows until that checkpoint (moving on when it fails). Returns the checkpoint stage 2 starts from.
   */
  private async waitForStopCheckpoint(control: AttemptRestoreControl, stage1: CheckpointMetadata | undefined): Promise<CheckpointMetadata | undefined> {
    const fixed = this.options.targetCheckpoint === 'when-ready' ? undefined : this.options.targetCheckpoint;
    const waitStart = this.clock.now();
    const deadline = waitStart + this.options.timeoutMs;
    let watch: TargetWatchState | undefined = fixed === undefined ? undefined : initialTargetWatch(fixed, deadline);
    let first = true;
    let probed: CheckpointMetadata | undefined;
    let newestApplied = stage1;
    try {
      for (;;) {
        this.throwIfAborted();
        // when-ready and announced: from now on B looks only for A's stop checkpoint.
        if (!watch && this.state.phase === 'announced') return await this.awaitStopCheckpoint(control, deadline, probed, newestApplied);
        const listing: CheckpointEntry[] = probed ? [{ id: probed.checkpointId, status: 'COMPLETED' }] : await listCheckpoints(this.storage);
        const seen = probed;
        probed = undefined;
        if (watch) watch = this.watchTarget(watch, listing);
        // A fixed target is taken over at; `when-ready` is still following here (it looks for its
        // stop checkpoint in awaitStopCheckpoint once announced).
        const isTakeover = watch ? (metadata: CheckpointMetadata) => metadata.checkpointId === watch!.target : () => false;
        // The probe read the stop checkpoint's `_metadata` already, and nothing discards a checkpoint
        // that ended A's run: no pin and no second read inside the blocking window.
        const probedStop = seen !== undefined && seen.endsJob === true && isTakeover(seen) ? seen : undefined;
        const step = probedStop
          ? { applied: this.state.applied, newest: undefined, followed: [], skipped: [], takeover: probedStop }
          : // when-ready, catching up: straight to A's newest checkpoint (one step, not one per checkpoint behind).
            await followStep(this.follower(control), listing, this.state.applied, isTakeover, watch ? watch.target + 1 : undefined, !watch);
        for (const skipped of step.skipped) this.report('follow-skipped', skipped.id, skipped.reason);
        for (const f of step.followed) {
          this.m.followedCheckpoints++;
          this.m.followBytes += f.result.bytes;
          this.m.rangesReloaded += f.result.reloads;
          this.report('followed', f.id);
        }
        newestApplied = step.newest ?? newestApplied;
        // when-ready, not announced yet, and the newest checkpoint already ends the job (A finished
        // or was stopped before B was ready): nobody to ask, B takes over from it.
        if (!watch && this.state.phase === 'following' && !step.takeover && newestApplied?.endsJob) {
          // Stopped for another successor: that run's to take over, not this one's.
          checkNextOwner(newestApplied, this.runId);
          this.m.targetReadyBeforeJob = true;
          this.m.targetCheckpoint = newestApplied.checkpointId;
          this.m.outcome = 'target';
          this.report('followed', newestApplied.checkpointId, 'the running job had ended already: taking over from its last checkpoint');
          await this.dispatch({ type: 'predecessor-ended', at: this.clock.now(), id: newestApplied.checkpointId });
          this.throwIfAborted();
          return newestApplied;
        }
        // when-ready, following: a step that applied something took time, and A may have completed
        // more meanwhile. Caught up only once a step (listing again at once) applies nothing new.
        if (!watch && this.state.phase === 'following' && step.followed.length > 0 && step.applied !== undefined) {
          await this.dispatch({ type: 'applied', at: this.clock.now(), applied: step.applied });
          this.throwIfAborted();
          first = false;
          continue;
        }
        let takeover = step.takeover;
        // A fixed target that stage 1 (or an earlier step) already applied: stage 2 restores it again.
        if (!takeover && watch?.phase === 'ready') takeover = await readMetadataSettled(this.storage, watch.target);
        if (takeover) {
          // Only a checkpoint the old job stopped after is a safe cutover: after any other, A went on.
          if (!takeover.endsJob && !this.options.allowStaleTarget) throw new HandoverTargetPassedError(takeover.checkpointId);
          this.m.takeoverSeenAt = this.clock.now();
          // The fence: a stop checkpoint that names another run as its next owner is that run's to take over.
          checkNextOwner(takeover, this.runId);
          this.m.targetReadyBeforeJob = first;
          this.m.targetCheckpoint = takeover.checkpointId;
          this.m.outcome = 'target';
          await this.dispatch({ type: 'caught-up', at: this.clock.now(), applied: step.applied });
          await this.dispatch({ type: 'stop-checkpoint', at: this.clock.now(), id: takeover.checkpointId });
          this.throwIfAborted();
          return takeover;
        }
        await this.dispatch({ type: 'caught-up', at: this.clock.now(), applied: step.applied });
        this.throwIfAborted();
        if (watch ? watch.phase === 'timed-out' : this.clock.now() >= deadline) return await this.timedOut(watch, step.applied);
        first = false;
        // Next up is the stop checkpoint: its completion starts the blocking window, so probe just
        // its `_metadata` every few ms (one cheap request) rather than waiting a whole listing interval.
        const next = watch ? watch.target : (step.applied ?? 0) + 1;
        const probeNow = watch ? (step.applied ?? 0) >= watch.target - 1 : this.state.phase === 'announced';
        if (probeNow) probed = await Promise.race([probeCheckpoint(this.storage, next, this.options.pollMs), control.failed]);
        else await Promise.race([sleep(this.options.pollMs), control.failed]);
      }
    } finally {
      this.m.waitMs = this.clock.now() - waitStart;
    }
  }

  /**
   * `when-ready`, announced: A's stop checkpoint comes next (after the checkpoint A has in flight,
   * if any). B reads only the `_metadata` of each checkpoint A completes (the probe finds the next
   * one within a few ms) and passes over those that are not the stop checkpoint without applying
   * them (the protocol decides: see `checkpoint-seen`): stage 2 applies what they changed. So B is
   * idle, not downloading and writing the checkpoint before, when the stop checkpoint completes.
   * `probed`: a checkpoint the probe already read; `applied`: the metadata of the newest one B
   * applied. Returns the checkpoint stage 2 starts from.
   */
  private async awaitStopCheckpoint(
    control: AttemptRestoreControl,
    deadline: number,
    probed: CheckpointMetadata | undefined,
    applied: CheckpointMetadata | undefined,
  ): Promise<CheckpointMetadata | undefined> {
    // The checkpoint B looked at last: a chain that starts with another base than there has a new base.
    let previous = applied;
    // The next checkpoint to look at: none up to `applied` can be the stop checkpoint.
    let next = (this.state.applied ?? 0) + 1;
    let found = probed;
    // A listing (slow on a large directory or a busy store) only on entry and then every
    // LIST_EVERY probe windows: a stop checkpoint that completes during one is found late. It is
    // also what moves B past a checkpoint that failed (rare: it costs a few windows).
    let windows = found ? 1 : 0;
    // Follows the protocol asked for, one after the other, while the loop goes on looking; their
    // first failure is the wait's (it surfaces at the next look, or before stage 2 at the latest).
    let applying: Promise<void> = Promise.resolve();
    let followFailure: { readonly error: unknown } | undefined;
    const settled = async () => {
      await Promise.race([applying, control.failed]);
      if (followFailure) throw followFailure.error;
    };
    for (;;) {
      this.throwIfAborted();
      if (followFailure) throw followFailure.error;
      let seen: ReadonlyArray<number | CheckpointMetadata> = [];
      if (found) seen = [found];
      else if (windows % LIST_EVERY === 0) {
        // What completed (or failed) before B probed, and what it missed while it could not look.
        const listing = await listCheckpoints(this.storage);
        seen = listing.filter((e) => e.status === 'COMPLETED' && e.id >= next).map((e) => e.id);
        // A checkpoint that failed never completes: the stop checkpoint takes a later id.
        const failed = new Set(listing.filter((e) => e.status === 'FAILED').map((e) => e.id));
        while (failed.has(next)) next++;
      }
      found = undefined;
      for (const entry of seen) {
        const metadata = typeof entry === 'number' ? await this.readSeen(entry) : entry;
        const id = typeof entry === 'number' ? entry : entry.checkpointId;
        next = Math.max(next, id + 1);
        // Vanished: A's retention discarded it, so it is not the stop checkpoint (that one ends A's run).
        if (metadata === undefined) continue;
        const newBase = hasNewBase(previous, metadata);
        previous = metadata;
        const effects = await this.dispatch({ type: 'checkpoint-seen', at: this.clock.now(), id, endsJob: metadata.endsJob === true, newBase });
        this.throwIfAborted();
        if (this.state.phase === 'taking-over') {
          this.m.takeoverSeenAt = this.clock.now();
          // The fence: a stop checkpoint that names another run as its next owner is that run's to take over.
          checkNextOwner(metadata, this.runId);
          this.m.targetCheckpoint = id;
          this.m.outcome = 'target';
          // Stage 2 continues what following applied: the follows asked for end first.
          await settled();
          return metadata;
        }
        if (effects.some((e) => e.type === 'follow')) {
          applying = applying.then(() =>
            this.followSeen(control, metadata, newBase).catch((error: unknown) => {
              followFailure ??= { error };
            }),
          );
        } else {
          this.m.passedOverCheckpoints++;
          this.report('passed-over', id, 'not the stop checkpoint: stage 2 applies its delta (its chunks are downloaded meanwhile)');
          // After the follows asked for before: a chain they rebase must not be downloaded whole again.
          if (effects.some((e) => e.type === 'prefetch')) applying = applying.then(() => control.prefetch(metadata));
        }
      }
      if (this.clock.now() >= deadline) {
        await settled();
        return await this.timedOut(undefined, this.state.applied);
      }
      // Its completion starts the blocking window: probe just its `_metadata` every few ms (one
      // cheap request) rather than waiting a whole listing interval.
      found = await Promise.race([probeCheckpoint(this.storage, next, this.options.pollMs), control.failed]);
      windows++;
    }
  }

  /** The `_metadata` of a listed checkpoint B looks at while it waits (a short read is read again), or undefined when it vanished. */
  private async readSeen(id: number): Promise<CheckpointMetadata | undefined> {
    try {
      return await readMetadataSettled(this.storage, id);
    } catch (error) {
      if (!(error instanceof CheckpointNotFoundError)) throw error;
      this.report('follow-skipped', id, `${metadataKey(id)} is gone`);
      return undefined;
    }
  }

  /**
   * Applies a checkpoint B looked at, as the protocol asked: it has a new base, or B passed over
   * too many. Pinned first; its `_metadata` is not read again: one discarded meanwhile shows as a
   * chunk gone with its `_metadata` (see applyFollowed), as after a read that came just before the discard.
   */
  private async followSeen(control: AttemptRestoreControl, metadata: CheckpointMetadata, newBase: boolean): Promise<void> {
    const id = metadata.checkpointId;
    await this.lease.hold([id]);
    const outcome = await applyFollowed(this.follower(control), metadata);
    if (outcome.kind === 'vanished') {
      this.report('follow-skipped', outcome.id, outcome.reason);
      return;
    }
    this.m.followedCheckpoints++;
    this.m.followBytes += outcome.applied.bytes;
    this.m.rangesReloaded += outcome.applied.reloads;
    this.report('followed', id, newBase ? 'a new base: applied now rather than reloaded by stage 2' : `after ${MAX_PASSED_OVER} passed over`);
    await this.dispatch({ type: 'caught-up', at: this.clock.now(), applied: id });
  }

  private follower(control: AttemptRestoreControl): FollowerDeps {
    return { storage: this.storage, control, lease: this.lease };
  }

  private watchTarget(watch: TargetWatchState, listing: readonly CheckpointEntry[]): TargetWatchState {
    const step = stepTargetWatch(watch, { type: 'observed', at: this.clock.now(), statuses: listing });
    for (const action of step.actions) {
      if (action.type !== 'target-moved') continue;
      this.m.moves = [...this.m.moves, action.move];
      this.m.targetCheckpoint = action.move.to;
      this.report('target-moved', action.move.to, action.move.reason);
    }
    return step.state;
  }

  private async timedOut(watch: TargetWatchState | undefined, applied: number | undefined): Promise<CheckpointMetadata | undefined> {
    const target = watch?.target ?? (applied ?? 0) + 1;
    if (this.options.onTimeout === 'fail') throw new HandoverTimeoutError(target, this.options.timeoutMs, watch?.targetStatus ?? 'UNKNOWN');
    const latest = (await findLatestRestorable(this.storage, { fallback: false })).latest?.metadata;
    this.m.outcome = 'timeout-latest';
    if (latest) this.m.targetCheckpoint = latest.checkpointId;
    await this.dispatch({ type: 'timed-out', at: this.clock.now(), latest: latest?.checkpointId });
    this.throwIfAborted();
    return latest;
  }

  private throwIfAborted(): void {
    if (this.failure) throw this.failure;
  }

  /** Steps the protocol and runs its effects; returns them (a `follow` is the caller's to run). */
  private async dispatch(event: SuccessorEvent): Promise<readonly SuccessorEffect[]> {
    const step = stepHandover(this.state, event);
    this.state = step.state;
    await this.execute(step.effects);
    return step.effects;
  }

  private async execute(effects: readonly SuccessorEffect[]): Promise<void> {
    for (const effect of effects) {
      switch (effect.type) {
        case 'publish-request':
          if (!this.options.requestStop) break;
          await writeLeasedStopRequest(this.storage, {
            runId: effect.runId,
            leaseExpiresAt: effect.leaseExpiresAt,
            requestedBy: 'handover',
            ...(effect.afterCheckpoint !== undefined ? { afterCheckpoint: effect.afterCheckpoint } : {}),
          });
          this.m.announcedAt = this.clock.now();
          this.report(effect.afterCheckpoint === undefined ? 'announced' : 'stop-requested', effect.afterCheckpoint, `run ${effect.runId}, lease until ${new Date(effect.leaseExpiresAt).toISOString()}`);
          break;
        case 'renew-lease':
          if (this.options.requestStop) void this.renew(effect.leaseExpiresAt);
          break;
        case 'withdraw-request':
          this.stopLeaseTimer?.();
          if (this.options.requestStop) await removeStopRequestOf(this.storage, this.runId).catch(() => false);
          if (effect.reason === 'done') this.report('done', this.m.targetCheckpoint);
          break;
        case 'fail':
          this.failure ??= new HandoverAbortedError(effect.reason);
          this.report('aborted', undefined, effect.reason);
          // In probation the attempt runs already: it fails (its sinks abort; nothing of B's is committed).
          if (this.state.startedAt !== undefined) this.attempt?.fail(this.failure);
          break;
        case 'stage2':
        case 'start':
          // The attempt does these when prepare() returns and the start signal follows.
          break;
        case 'follow':
        case 'prefetch':
          // Run by the wait loop that asked (see awaitStopCheckpoint): a follow reports `caught-up` after it.
          break;
      }
    }
  }

  /** Renews the lease if the request is still B's; one renewal at a time (a slow store skips ticks, the protocol watches the expiry). */
  private async renew(leaseExpiresAt: number): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const renewal = await renewStopRequestLease(this.storage, this.runId, leaseExpiresAt, 'handover');
      if (renewal.renewed) await this.dispatch({ type: 'lease-renewed', at: this.clock.now(), leaseExpiresAt });
      else await this.dispatch({ type: 'lease-lost', at: this.clock.now(), reason: renewal.reason });
    } catch {
      // A storage problem: the next tick tries again; a lease that runs out meanwhile aborts B.
    } finally {
      this.renewing = false;
    }
  }

  private report(phase: SuccessorHandoverEvent['phase'], checkpointId?: number, detail?: string): void {
    this.emit({ phase, at: this.clock.now(), checkpointId, detail, metrics: this.metrics() });
  }
}
