// Deployment A's side of the handover, the thin shell: reads the stop request and the listing, steps the pure protocol, drives the job.
import { InvalidStopRequestError } from '../../checkpoint/index.ts';
import { checkpointStatus, listCheckpoints } from '../../checkpoint/index.ts';
import { removeStopRequestOf } from '../../checkpoint/status/lease-request.ts';
import { readStopRequest, type StopRequest } from '../../checkpoint/index.ts';
import type { RunningJobControl, StopRequestResponder } from '../../runtime/coordinator/start-sequence.ts';
import { StorageProblemReporter } from '../../runtime/coordinator/storage-problem-reporter.ts';
import { initialPredecessor, type ObservedRequest, type PredecessorEffect, type PredecessorEvent, standbyNeedsListing, stepHandover } from '../protocol/index.ts';
import type { PredecessorHandoverEvent } from '../../runtime/index.ts';

/** Clock and timer, injected so tests drive them. */
export interface ShellClock {
  now(): number;
  every(ms: number, run: () => void): () => void;
}

export const systemClock: ShellClock = {
  now: () => Date.now(),
  every: (ms, run) => {
    const timer = setInterval(run, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** How often A looks at the directory while a successor's stop is under way, unless told otherwise. */
export const DEFAULT_HANDOVER_POLL_MS = 20;

/**
 * Reads `handover/stop-request.json` every `pollMs` and answers it: an operator's request stops the
 * job after its checkpoint; a successor's (with a live lease) triggers the stop checkpoint at once,
 * then keeps the job on standby until the successor's first checkpoint completes (end) or its lease
 * expires / it withdraws (resume). Decisions are the pure protocol's; this only does the I/O.
 *
 * While a successor's stop is under way (stopping, standby) it looks every `handoverPollMs`
 * instead: that window lasts a checkpoint or two, and a withdrawn request seen 250 ms late is
 * 250 ms of the rollback's downtime, where a look costs one small read (plus a listing on standby).
 * Not while the at-once stop checkpoint itself runs (see stopCheckpointRunning).
 *
 * @example const responder = new StopRequestShell(control, { pollMs: 250, handoverPollMs: 20 });
 */
export class StopRequestShell implements StopRequestResponder {
  private state;
  private busy = false;
  private current: Promise<void> | undefined;
  private readonly effects = new Set<Promise<void>>();
  private closed = false;
  private readonly cancelTimer: () => void;
  /** The fast timer while a successor's stop is under way (undefined otherwise). */
  private cancelFastTimer: (() => void) | undefined;
  private readonly storageProblems: StorageProblemReporter;
  /** A malformed request is refused once, not at every poll. */
  private refused: string | undefined;
  /** The stop checkpoint the protocol scheduled (it may complete under a later id if one failed). */
  private scheduled: number | undefined;
  private lastRaw: StopRequest | undefined;
  private standbyAt: number | undefined;
  /** On standby: when the directory was last listed for the successor's first checkpoint (see standbyNeedsListing). */
  private standbyListedAt: number | undefined;

  constructor(
    private readonly control: RunningJobControl,
    private readonly options: { readonly pollMs: number; readonly handoverPollMs?: number },
    private readonly clock: ShellClock = systemClock,
  ) {
    this.state = initialPredecessor(control.runId);
    this.storageProblems = new StorageProblemReporter('read stop request', (event) => control.emit('storage-problem', event));
    this.cancelTimer = clock.every(options.pollMs, () => void this.poll());
    void this.poll();
  }

  stopCompleted(id: number): 'end' | 'standby' {
    // A stop that was not the protocol's (the job's own stopAfterCheckpoint) ends the job as before.
    if (this.scheduled === undefined || id < this.scheduled) return 'end';
    const effects = this.dispatch({ type: 'stop-completed', at: this.clock.now(), id });
    return effects.some((e) => e.type === 'enter-standby' || e.type === 'resume') ? 'standby' : 'end';
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    this.cancelFastTimer?.();
    this.cancelFastTimer = undefined;
  }

  /** Fast looks while a successor's stop is under way (its request names a run), the normal pace otherwise. */
  private pace(): void {
    const fast = !this.closed && (this.state.phase === 'stopping' || this.state.phase === 'standby') && this.state.request?.runId !== undefined;
    if (fast && this.cancelFastTimer === undefined) {
      this.cancelFastTimer = this.clock.every(this.options.handoverPollMs ?? DEFAULT_HANDOVER_POLL_MS, () => void (this.stopCheckpointRunning() ? undefined : this.poll()));
    } else if (!fast && this.cancelFastTimer !== undefined) {
      this.cancelFastTimer();
      this.cancelFastTimer = undefined;
    }
  }

  /**
   * A successor's at-once stop checkpoint is triggered and not complete yet: its uploads and its
   * `_metadata` are the first half of the handover's downtime, and a look now would only compete
   * with them for the store. Its completion comes next, and the standby's looks (fast again) see a
   * request withdrawn meanwhile at once; the normal-pace look still runs.
   */
  private stopCheckpointRunning(): boolean {
    const s = this.state;
    return s.phase === 'stopping' && s.request?.runId !== undefined && s.request.afterCheckpoint === undefined && this.scheduled !== undefined && this.scheduled < this.control.nextCheckpointId();
  }

  /** One look at the directory: the request first, then (on standby) the listing; see PredecessorEvent. While one runs, its promise. */
  poll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.busy && this.current) return this.current;
    this.current = this.look();
    return this.current;
  }

  private async look(): Promise<void> {
    this.busy = true;
    try {
      let raw: StopRequest | undefined;
      try {
        // While a successor's stop is under way its request is there: one GET per look, not two.
        const expected = (this.state.phase === 'stopping' || this.state.phase === 'standby') && this.state.request?.runId !== undefined;
        raw = await readStopRequest(this.control.jobStorage, { expected });
        this.storageProblems.succeeded();
        this.refused = undefined;
      } catch (error) {
        if (!(error instanceof InvalidStopRequestError)) {
          this.storageProblems.failed(error);
          return;
        }
        this.storageProblems.succeeded();
        if (this.refused !== error.message) this.control.emit('stop-request', { accepted: false, reason: error.message });
        this.refused = error.message;
        return;
      }
      const observed: ObservedRequest | undefined = raw && {
        ...(raw.runId !== undefined ? { runId: raw.runId, leaseExpiresAt: raw.leaseExpiresAt } : {}),
        ...(raw.afterCheckpoint !== undefined ? { afterCheckpoint: raw.afterCheckpoint } : {}),
      };
      const stopAt = this.state.stopAt;
      let successorCheckpoint: number | undefined;
      const now = this.clock.now();
      if (stopAt !== undefined && standbyNeedsListing(this.state, observed, now, now - (this.standbyListedAt ?? now) >= this.options.pollMs)) {
        this.standbyListedAt = now;
        const after = (await listCheckpoints(this.control.jobStorage)).filter((c) => c.status === 'COMPLETED' && c.id > stopAt);
        successorCheckpoint = after.length === 0 ? undefined : Math.min(...after.map((c) => c.id));
      }
      if (this.closed) return;
      this.lastRaw = raw;
      this.dispatch({ type: 'observed', at: this.clock.now(), request: observed, ...(successorCheckpoint === undefined ? {} : { successorCheckpoint }) });
      await Promise.all([...this.effects]);
    } catch (error) {
      // Listing, or reading a requested checkpoint's status, failed: storage again, not the request.
      this.storageProblems.failed(error);
    } finally {
      this.busy = false;
    }
  }

  /** Steps the protocol; its effects run in order, and a look at the directory ends only once they did. */
  private dispatch(event: PredecessorEvent): readonly PredecessorEffect[] {
    const step = stepHandover(this.state, event);
    this.state = step.state;
    this.pace();
    const run = (async () => {
      for (const effect of step.effects) await this.execute(effect);
    })();
    this.effects.add(run);
    void run.finally(() => this.effects.delete(run));
    return step.effects;
  }

  private async execute(effect: PredecessorEffect): Promise<void> {
    const c = this.control;
    switch (effect.type) {
      case 'stop-at-once': {
        const id = c.stopAtOnce(effect.nextOwner);
        this.scheduled = id;
        this.dispatch({ type: 'stop-scheduled', at: this.clock.now(), id });
        c.emit('stop-request', { ...this.lastRaw, afterCheckpoint: id, accepted: true });
        this.report('stop-requested', id, `run ${effect.nextOwner} is ready: stop checkpoint triggered at once`);
        return;
      }
      case 'stop-after': {
        let id = effect.id;
        // The checkpoint asked for died with the previous attempt: like a failed one, the next replaces it.
        if (c.restart && id < c.nextCheckpointId() && (await checkpointStatus(c.jobStorage, id)) !== 'COMPLETED') id = c.nextCheckpointId();
        this.scheduled = id;
        c.stopAfter(id, effect.nextOwner);
        this.dispatch({ type: 'stop-scheduled', at: this.clock.now(), id });
        c.emit('stop-request', { ...this.lastRaw, afterCheckpoint: id, accepted: true });
        if (effect.nextOwner !== undefined) this.report('stop-requested', id, `run ${effect.nextOwner} asked to take over after chk-${id}`);
        return;
      }
      case 'withdraw-stop':
        if (effect.id === undefined) return;
        c.withdrawStop(effect.id);
        // Withdrawn in time (not triggered yet): no stop comes. Already triggered: the sources
        // pause after its barrier all the same, and its completion must resume the job, not end it.
        if (effect.id >= c.nextCheckpointId()) this.scheduled = undefined;
        return;
      case 'request-ignored':
        c.emit('stop-request', { ...(this.scheduled !== undefined ? { afterCheckpoint: this.scheduled } : {}), accepted: false, reason: effect.reason });
        return;
      case 'enter-standby':
        this.standbyAt = effect.id;
        // The successor's first checkpoint is a stage 2 and a checkpoint interval away: no listing for it before pollMs.
        this.standbyListedAt = this.clock.now();
        this.report('standby', effect.id, 'warm after the stop checkpoint until the successor completes its first checkpoint');
        return;
      case 'end':
        this.report('ended', effect.successorCheckpoint, `the successor completed chk-${effect.successorCheckpoint}`);
        c.end();
        return;
      case 'resume': {
        const from = this.standbyAt ?? this.scheduled;
        this.standbyAt = undefined;
        this.scheduled = undefined;
        // From stopCompleted, the runtime enters standby only once that call returned: resume after it.
        await null;
        this.report('rollback', from, effect.reason);
        // Not awaited: the first record after resuming may be long in coming; looks go on meanwhile.
        c.resume(effect.reason).then(
          (report) =>
            this.control.emit('handover', {
              side: 'predecessor',
              phase: 'resumed',
              at: report.firstRecordAt,
              checkpointId: report.checkpointId,
              detail: `first record ${report.downtimeMs ?? '?'} ms after the last one before the stop checkpoint`,
              rollbackDowntimeMs: report.downtimeMs,
            } satisfies PredecessorHandoverEvent),
          () => {
            // The attempt failed or ended meanwhile: its own error is what the job reports.
          },
        );
        return;
      }
      case 'clear-request':
        await removeStopRequestOf(c.jobStorage, effect.runId).catch((error: unknown) => this.storageProblems.failed(error));
        return;
    }
  }

  private report(phase: PredecessorHandoverEvent['phase'], checkpointId: number | undefined, detail: string): void {
    this.control.emit('handover', { side: 'predecessor', phase, at: this.clock.now(), checkpointId, detail } satisfies PredecessorHandoverEvent);
  }
}
