// Deployment B in shadow mode, the thin shell: storage, clock and the attempt in, the pure shadow protocol's decisions out.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CheckpointMetadata,
  CheckpointNotFoundError,
  type CheckpointStorage,
  handoverReportKey,
  listCheckpoints,
  metadataKey,
  readMetadataSettled,
  removeStopRequestOf,
  writeLeasedStopRequest,
} from '../../checkpoint/index.ts';
import { JobConfigError } from '../../errors/index.ts';
import { renewStopRequestLease } from '../successor/lease-renewal.ts';
import type { AttemptRestoreControl, HandoverMetrics, HeldPositions, ShadowControl, ShadowCut, StartSequence } from '../../runtime/index.ts';
import { HandoverAbortedError, PromotionRefusedError } from '../errors.ts';
import { followNewest, PinLease } from '../follow/index.ts';
import { checkNextOwner } from '../next-owner.ts';
import { type ShellClock, systemClock } from '../predecessor/index.ts';
import { checkpointPositions, initialShadow, positionsCover, type ShadowEffect, type ShadowEvent, type ShadowState, stepShadow } from '../protocol/index.ts';
import { newestCompletedOf } from '../watcher/index.ts';
import { probeCheckpoint } from '../successor/probe.ts';
import { askGuard, deploymentMetrics, describeAnswer, loadedReferenceData, readPredecessorMetrics } from './guard.ts';
import { ShadowMetricsRecorder } from './shadow-metrics.ts';
import type { ShadowEventPhase, ShadowOptions } from './types.ts';

/** Announced: B lists the job directory once every this many probe windows (a failed checkpoint id is skipped there). */
const LIST_EVERY = 10;

/**
 * The start sequence of a shadow deployment B. Stage 1 bootstraps B from A's newest checkpoint
 * (pinned, so A's retention keeps its chunks: B's first checkpoint continues its chains); then B
 * runs in SHADOW beside A. On promotion (after `promoteAfterMs`, or JobHandle.promote) the guard is
 * asked; then B's sources hold, B waits for a checkpoint of A at or after its positions on every
 * split, asks A to stop (a leased request: A takes its stop checkpoint at once and stands by), and
 * the cut is A's stop checkpoint: B reads exactly up to its positions, and its first checkpoint's
 * barrier switches its sinks live. Every decision is the pure protocol's (src/handover/protocol/shadow.ts).
 */
export class ShadowSuccessor implements StartSequence {
  private state: ShadowState;
  private readonly recorder: ShadowMetricsRecorder;
  private control: ShadowControl | undefined;
  private held: HeldPositions | undefined;
  /** The newest checkpoint of A read while converging or announced. */
  private seen: CheckpointMetadata | undefined;
  private settleCut: { resolve: (cut: ShadowCut) => void; reject: (error: Error) => void } | undefined;
  private readonly cutDecided: Promise<ShadowCut>;
  private readonly timers: Array<() => void> = [];
  private renewing = false;
  private sampling = false;
  private readonly lease: PinLease;

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly options: ShadowOptions,
    private readonly runId: string,
    private readonly emit: (event: { phase: ShadowEventPhase; at: number; checkpointId?: number; detail?: string; metrics: HandoverMetrics }) => void,
    /** When the pre-state-load hooks started (RUNNING_PRE_STATE_HOOKS), to time them. */
    private readonly hooksStartedAt: () => number | undefined,
    /** Reference data the hooks loaded, for the guard. */
    private readonly referenceData: (uri: string) => SharedArrayBuffer | undefined = () => undefined,
    private readonly clock: ShellClock = systemClock,
  ) {
    this.lease = new PinLease(storage, runId);
    this.state = initialShadow({
      runId,
      leaseMs: options.leaseMs,
      promoteAfterMs: options.promoteAfterMs === 'manual' ? undefined : options.promoteAfterMs,
      timeoutMs: options.timeoutMs,
      onGuardTimeout: options.onGuardTimeout,
    });
    this.recorder = new ShadowMetricsRecorder(runId);
    this.cutDecided = new Promise<ShadowCut>((resolve, reject) => {
      this.settleCut = { resolve, reject };
    });
    this.cutDecided.catch(() => undefined);
  }

  metrics(): HandoverMetrics {
    return this.recorder.snapshot();
  }

  /** Only a shadow past its cut checkpoint owns the job: before that, A resumes and B must not restart over it. */
  mayRestart(): boolean {
    return this.state.phase === 'done';
  }

  /** Stage 1: A's newest completed checkpoint (waiting for A's first if it has none yet), pinned. */
  async prepare(control: AttemptRestoreControl): Promise<CheckpointMetadata | undefined> {
    const hooksStarted = this.hooksStartedAt();
    const stage1Start = this.clock.now();
    this.recorder.hooks(hooksStarted === undefined ? 0 : stage1Start - hooksStarted);
    const follower = { storage: this.storage, control, lease: this.lease };
    let stage1 = await followNewest(follower, (s) => this.report('follow-skipped', s.id, s.reason));
    // B's first checkpoint continues the chains of the checkpoint it bootstraps from, so that one
    // must outlive the pin's landing: a discard A began before the pin may still remove it (its
    // `_metadata` first). Seen gone after the download: bootstrap again from a newer one.
    while (!stage1 || !(await this.storage.exists(metadataKey(stage1.metadata.checkpointId)))) {
      if (this.clock.now() - stage1Start > this.options.timeoutMs) throw new HandoverAbortedError(`the running job completed no checkpoint that stayed within ${this.options.timeoutMs} ms: a shadow bootstraps from one`);
      if (stage1) this.report('follow-skipped', stage1.metadata.checkpointId, 'discarded by the running job while it was read (before the pin landed): bootstrapping from a newer one');
      else await Promise.race([sleep(this.options.pollMs), control.failed]);
      stage1 = await followNewest(follower, (s) => this.report('follow-skipped', s.id, s.reason));
    }
    // Operator state, source offsets (and an unaligned checkpoint's in-flight data) of the same checkpoint.
    const rest = await control.restore(stage1.metadata);
    this.recorder.stage1(stage1.metadata.checkpointId, this.clock.now() - stage1Start, stage1.applied.bytes + rest.bytes);
    control.stateRestored();
    this.report('stage1-done', stage1.metadata.checkpointId);
    return stage1.metadata;
  }

  async shadow(control: ShadowControl): Promise<ShadowCut> {
    if (!control.alignedCheckpoints) {
      throw new JobConfigError('handover.mode', "'shadow' needs aligned checkpoints without an alignment timeout (the cut is an aligned barrier): env.enableCheckpointing({ mode: 'aligned' })");
    }
    const uncut = control.sourceUids.filter((uid) => control.compareOffsets(uid) === undefined);
    if (uncut.length > 0) throw new JobConfigError('handover.mode', `'shadow' cuts every source at the running job's positions, and source(s) ${uncut.map((u) => `'${u}'`).join(', ')} cannot order their offsets (Source.compareOffsets)`);
    this.control = control;
    const at = this.clock.now();
    this.recorder.shadowStarted(at);
    await this.dispatch({ type: 'bootstrapped', at, checkpointId: this.recorder.bootstrap });
    this.report('shadow', this.recorder.bootstrap, 'processing the live input beside the running job; sinks write to their shadow side');
    this.timers.push(this.clock.every(Math.max(20, Math.floor(this.options.leaseMs / 10)), () => void this.dispatch({ type: 'tick', at: this.clock.now() })));
    this.timers.push(this.clock.every(this.options.sampleEveryMs, () => void this.sample()));
    return this.cutDecided;
  }

  promote(): void {
    this.recorder.promoteAsked(this.clock.now());
    void this.dispatch({ type: 'promote', at: this.clock.now() });
  }

  started(control: AttemptRestoreControl): void {
    void this.control?.firstLiveRecord.then((at) => {
      this.recorder.firstLiveRecord(at);
      this.report('live', this.state.cutFrom, `first live record ${this.recorder.snapshot().shadow?.liveGapMs ?? '?'} ms after the running job's last`);
    });
    void control.firstCheckpoint.then(
      (id) => this.dispatch({ type: 'first-checkpoint', at: this.clock.now(), id }),
      () => undefined,
    );
  }

  /** B failed or was canceled: withdraw its request if one is out (A resumes or goes on), release its pin. */
  async abort(error?: unknown): Promise<void> {
    await this.dispatch({ type: 'failed', at: this.clock.now(), reason: (error as Error)?.message ?? 'the attempt failed' });
    this.stopTimers();
    await this.lease.release().catch(() => undefined);
  }

  private stopTimers(): void {
    for (const stop of this.timers.splice(0)) stop();
  }

  /** Steps the protocol and runs its effects. */
  private async dispatch(event: ShadowEvent): Promise<void> {
    const step = stepShadow(this.state, event);
    this.state = step.state;
    for (const effect of step.effects) await this.execute(effect);
  }

  private async execute(effect: ShadowEffect): Promise<void> {
    switch (effect.type) {
      case 'evaluate-guard':
        void this.guard().catch((error: unknown) => this.failWith(error));
        return;
      case 'hold-sources':
        void this.hold().catch((error: unknown) => this.failWith(error));
        return;
      case 'watch-predecessor':
        void this.watch().catch((error: unknown) => this.failWith(error));
        return;
      case 'publish-request':
        await writeLeasedStopRequest(this.storage, { runId: effect.runId, leaseExpiresAt: effect.leaseExpiresAt, requestedBy: 'shadow' });
        this.report('announced', this.seen?.checkpointId, `chk-${this.seen?.checkpointId} is at or after the shadow's positions on every split: asked the running job to stop (run ${effect.runId})`);
        return;
      case 'renew-lease':
        void this.renew(effect.leaseExpiresAt);
        return;
      case 'cut':
        void this.cutAt(effect.checkpointId);
        return;
      case 'withdraw-request':
        await removeStopRequestOf(this.storage, this.runId).catch(() => false);
        if (effect.reason === 'done') await this.done();
        return;
      case 'refuse':
        this.recorder.outcome('refused');
        this.report('refused', undefined, effect.reason);
        this.end(new PromotionRefusedError(effect.reason));
        return;
      case 'fail':
        this.report('aborted', undefined, effect.reason);
        this.end(new HandoverAbortedError(effect.reason));
        return;
    }
  }

  /** Ends B before its cut: the attempt's shadow fails with `error` (the job ends; A is untouched or resumes). */
  private end(error: Error): void {
    this.stopTimers();
    this.settleCut?.reject(error);
    this.settleCut = undefined;
  }

  /** A failure of one of the shell's own steps (storage, the attempt): the protocol aborts, B ends. */
  private async failWith(error: unknown): Promise<void> {
    const reason = (error as Error)?.message ?? String(error);
    if (this.state.phase === 'done' || this.state.phase === 'refused' || this.state.phase === 'aborted') return;
    await this.dispatch({ type: 'failed', at: this.clock.now(), reason });
    this.report('aborted', undefined, reason);
    this.end(error instanceof Error ? error : new HandoverAbortedError(reason));
  }

  private async guard(): Promise<void> {
    const control = this.control!;
    const started = this.clock.now();
    const samples = await control.sample(true);
    this.recorder.sampled(samples);
    const answer = await askGuard(
      this.options.promotionGuard,
      {
        mode: 'shadow',
        jobId: control.jobId,
        sample: { total: samples.reduce((n, s) => n + s.total, 0), sinks: samples },
        successor: deploymentMetrics(this.clock.now(), control.progress()),
        predecessor: await readPredecessorMetrics(this.storage),
        referenceData: loadedReferenceData(this.referenceData),
      },
      this.options.guardTimeoutMs,
    );
    this.recorder.guard(answer, this.clock.now() - started);
    this.report('guard', undefined, describeAnswer(answer, this.options.onGuardTimeout));
    await this.dispatch({ type: 'guard-answered', at: this.clock.now(), answer });
  }

  private async hold(): Promise<void> {
    this.held = await this.control!.holdSources();
    const at = this.clock.now();
    this.recorder.held(at);
    const splits = Object.values(this.held).reduce((n, s) => n + s.length, 0);
    this.report('held', undefined, `${splits} split(s) of ${Object.keys(this.held).length} source(s) hold where the shadow got to`);
    await this.dispatch({ type: 'held', at });
  }

  /**
   * Converging and announced: reads A's checkpoints as they complete (the newest, from a listing;
   * once announced, the next id is probed every few ms, since A's stop checkpoint starts the
   * live output's gap) and reports each with whether its positions cover B's held ones.
   */
  private async watch(): Promise<void> {
    const control = this.control!;
    let lastSeen = this.seen?.checkpointId ?? 0;
    for (let windows = 0; this.state.phase === 'converging' || this.state.phase === 'announced'; windows++) {
      let found: CheckpointMetadata | undefined;
      if (this.state.phase === 'announced' && windows % LIST_EVERY !== 0) {
        found = await Promise.race([probeCheckpoint(this.storage, lastSeen + 1, this.options.pollMs), control.failed]);
      } else {
        const newest = newestCompletedOf(await listCheckpoints(this.storage));
        if (newest !== undefined && newest > lastSeen) found = await this.readSeen(newest);
        if (!found) await Promise.race([sleep(this.options.pollMs), control.failed]);
      }
      if (!found || found.checkpointId <= lastSeen) continue;
      lastSeen = found.checkpointId;
      this.seen = found;
      await this.dispatch({
        type: 'predecessor-checkpoint',
        at: this.clock.now(),
        checkpointId: found.checkpointId,
        coverage: this.coverage(found),
        endsJob: found.endsJob === true,
        nextOwner: found.nextOwner,
      });
    }
  }

  private coverage(metadata: CheckpointMetadata): 'covers' | 'behind' | { problem: string } {
    const control = this.control!;
    const read = checkpointPositions(metadata, control.sourceUids);
    if ('problem' in read) return { problem: read.problem };
    const coverage = positionsCover(read.positions, this.held!, (uid) => control.compareOffsets(uid));
    if ('problem' in coverage) return { problem: coverage.problem };
    return coverage.covers ? 'covers' : 'behind';
  }

  /** The cut is at A's checkpoint `id` (read by the watch): its positions go to the attempt, which reads up to them. */
  private async cutAt(id: number): Promise<void> {
    const metadata = this.seen;
    try {
      // The cut checkpoint continues the bootstrap checkpoint's chains: it must still be there (see prepare).
      const bootstrap = this.recorder.bootstrap;
      if (bootstrap !== undefined && !(await this.storage.exists(metadataKey(bootstrap)))) {
        throw new HandoverAbortedError(`the checkpoint the shadow bootstrapped from (chk-${bootstrap}) is gone: its first checkpoint would refer to chunks the running job may have removed; start the shadow again`);
      }
      if (!metadata || metadata.checkpointId !== id) throw new HandoverAbortedError(`chk-${id} to cut at was not read`);
      checkNextOwner(metadata, this.runId);
      if ((metadata.channelState?.length ?? 0) > 0) {
        throw new HandoverAbortedError(`the running job's stop checkpoint chk-${id} is unaligned (it holds in-flight data, output of input before the cut that it never committed): a cut needs an aligned stop checkpoint`);
      }
      const read = checkpointPositions(metadata, this.control!.sourceUids);
      if ('problem' in read) throw new HandoverAbortedError(read.problem);
      this.recorder.cut(id, this.clock.now(), metadata.lastRecordAt);
      this.report('cut', id, "the running job's stop checkpoint: the shadow reads up to its positions, then its output is live");
      this.settleCut?.resolve({ from: metadata, positions: read.positions });
      this.settleCut = undefined;
    } catch (error) {
      void this.failWith(error);
    }
  }

  private async done(): Promise<void> {
    this.stopTimers();
    this.recorder.outcome('target');
    await this.lease.release().catch(() => undefined);
    const id = this.state.cutFrom;
    if (id !== undefined) {
      // Next to A's stop checkpoint, like a checkpoint handover's report: readable from storage alone.
      await this.storage.put(handoverReportKey(id), new TextEncoder().encode(JSON.stringify(this.metrics(), null, 2))).catch(() => undefined);
    }
    this.report('done', id, "the cut checkpoint completed: the job directory is this deployment's");
  }

  /** The `_metadata` of a listed checkpoint (a short read is read again), or undefined when it vanished. */
  private async readSeen(id: number): Promise<CheckpointMetadata | undefined> {
    try {
      return await readMetadataSettled(this.storage, id);
    } catch (error) {
      if (error instanceof CheckpointNotFoundError) return undefined;
      throw error;
    }
  }

  /** Every sampleEveryMs in SHADOW: the sinks' samples, shadow destinations made visible. One at a time. */
  private async sample(): Promise<void> {
    if (this.sampling || this.state.phase !== 'shadow' || !this.control) return;
    this.sampling = true;
    try {
      const samples = await this.control.sample(true);
      this.recorder.sampled(samples);
      this.report('shadow-sample', undefined, `${samples.reduce((n, s) => n + s.total, 0)} records written in shadow`);
    } catch {
      // The attempt failed meanwhile: its failure is reported by the attempt.
    } finally {
      this.sampling = false;
    }
  }

  /** Renews the lease if the request is still B's; one renewal at a time (the protocol watches the expiry). */
  private async renew(leaseExpiresAt: number): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const renewal = await renewStopRequestLease(this.storage, this.runId, leaseExpiresAt, 'shadow');
      if (renewal.renewed) await this.dispatch({ type: 'lease-renewed', at: this.clock.now(), leaseExpiresAt });
      else await this.dispatch({ type: 'lease-lost', at: this.clock.now(), reason: renewal.reason });
    } catch {
      // A storage problem: the next tick tries again; a lease that runs out meanwhile aborts B.
    } finally {
      this.renewing = false;
    }
  }

  private report(phase: ShadowEventPhase, checkpointId?: number, detail?: string): void {
    this.emit({ phase, at: this.clock.now(), checkpointId, detail, metrics: this.metrics() });
  }
}
