// Writes what the checkpoint coordinator decides into storage: metadata last, failure markers, discards, sweeps.
import { CheckpointNotFoundError, CorruptCheckpointError, FencedError } from '../../checkpoint/index.ts';
import { metadataKey } from '../../checkpoint/index.ts';
import { encodeMetadata } from '../../checkpoint/index.ts';
import { discardUnlessPinned } from '../../checkpoint/index.ts';
import { type SweepReport, type SweepScope, sweepJobDirectory } from '../../checkpoint/index.ts';
import { completedByOthers } from '../../checkpoint/index.ts';
import { readMetadata, writeFailedMarker } from '../../checkpoint/index.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { CheckpointPersistence } from './checkpoint-driver.ts';

/** What a sweep of the job directory did, or why it could not (it is retried at the next one). */
export type SweepOutcome = { readonly report: SweepReport } | { readonly error: unknown };

/** The job handle's `storage-sweep` event: a sweep's outcome; `takeover` for the one when a run restores from the directory. */
export type StorageSweepEvent = SweepOutcome & { readonly takeover?: boolean };

/** Least time between two sweeps after completed checkpoints (a stop checkpoint always sweeps). */
export const SWEEP_INTERVAL_MS = 10_000;

/** What the ownership fence compares a new checkpoint with. */
export interface MetadataFence {
  /**
   * The checkpoint whose state the new one continues (the restored one, then the run's previous
   * completed one; for a run that started empty, the id before its first): a COMPLETED checkpoint
   * above it, other than the new one, was committed by another run.
   */
  readonly after: number;
  /**
   * Newer checkpoints the restore passed over on purpose (a corrupt newest one under
   * `latest-valid`, the newer ones of an explicit older `restoreFrom`): never evidence of another
   * run. With `restoreFrom: 'latest'` there are none: a newer one was written by a run still alive.
   */
  readonly known?: readonly number[];
}

export interface PersistenceOptions {
  /** Completed checkpoints kept in the job directory. */
  readonly retain: number;
  /** The run writing (`JobHandle.runId`): a checkpoint another run committed is never marked failed by this one. */
  readonly runId?: string;
  readonly onSweep?: (outcome: SweepOutcome) => void;
  readonly sweepIntervalMs?: number;
  readonly now?: () => number;
}

/**
 * The running job's side of the job directory. Retention (the coordinator's discards) and sweeps
 * go through the shared-chunk registry rebuilt from storage, one at a time. A sweep follows a
 * completed checkpoint at most every {@link SWEEP_INTERVAL_MS} (and always after a stop
 * checkpoint): it applies retention to the whole directory, earlier runs' checkpoints included,
 * and removes failed checkpoints, orphaned chunks and temp files older than that checkpoint.
 *
 * @example const persistence = new StorageCheckpointPersistence(jobStorage, { retain: 3, onSweep: console.log });
 */
export class StorageCheckpointPersistence implements CheckpointPersistence {
  #housekeeping: Promise<unknown> = Promise.resolve();
  /** Housekeeping queued while quiet waits for this (see quiet). */
  #gate: Promise<void> = Promise.resolve();
  #open: (() => void) | undefined;
  #lastSweepAt = Number.NEGATIVE_INFINITY;
  /** Discards a follower's pin held back: retried with the next discard (the coordinator asks only once). */
  #held: readonly number[] = [];
  readonly #now: () => number;

  constructor(
    private readonly storage: CheckpointStorage,
    private readonly options: PersistenceOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * The commit point. `_metadata` is created (never overwritten) after every chunk it names is
   * stored: its existence means COMPLETED. Then the ownership fence: a create that lost means
   * another run committed this id; a COMPLETED checkpoint above `fence.after` (the checkpoint this
   * one continues) other than this one means another run committed state since (found cheaply,
   * see completedByOthers). Either way this run is fenced: a FencedError, and a checkpoint it
   * created is withdrawn first (its `_metadata` deleted, a `_FAILED` marker written) so it is
   * never restored from and does not fence the owner in turn.
   * A listing that fails withdraws the checkpoint too and throws the storage error: unchecked, it
   * must not count as completed (the next one is tried as after any failed checkpoint).
   */
  async writeMetadata(metadata: CheckpointMetadata, fence: MetadataFence): Promise<void> {
    const id = metadata.checkpointId;
    if (!(await this.storage.putIfAbsent(metadataKey(id), encodeMetadata(metadata)))) {
      throw new FencedError(id, metadata.runId, 'metadata-exists', `${this.storage.uri}/${metadataKey(id)} was already created by another run`);
    }
    let others: number[];
    try {
      const known = new Set(fence.known ?? []);
      others = (await completedByOthers(this.storage, fence.after, id)).filter((n) => !known.has(n));
      if (others.length > 0 && metadata.nextOwner !== undefined) others = await this.#notContinuing(others, metadata);
    } catch (error) {
      await this.#withdraw(id, `the ownership check could not list the job directory: ${(error as Error).message}`);
      throw error;
    }
    if (others.length > 0) {
      const detail = `another run committed ${others.map((n) => `chk-${n}`).join(', ')} after chk-${fence.after}, which this run continues from`;
      await this.#withdraw(id, `fenced: ${detail}`);
      throw new FencedError(id, metadata.runId, 'newer-checkpoint', detail);
    }
    // A handover's stop checkpoint: the successor restores from it right now, from the same store,
    // and sweeps after its first checkpoint (it owns the directory then); after a rollback this
    // job's next sweep comes as usual.
    if (metadata.nextOwner !== undefined) return;
    const due = metadata.endsJob === true || this.#now() - this.#lastSweepAt >= (this.options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
    if (!due) return;
    this.#lastSweepAt = this.#now();
    // Everything from the next checkpoint on may still be written by this job.
    this.sweep({ retain: this.options.retain, activeFrom: metadata.checkpointId + 1, spillSegments: false, temporariesBefore: metadata.triggeredAt });
  }

  /**
   * A handover's stop checkpoint: its successor restores from it as soon as its `_metadata`
   * exists, and may commit its first checkpoint before this run's check above got to list (a
   * stalled process, a slow store). Those checkpoints continue this one (the named successor's,
   * chained back to it through `previousCheckpoint`): no rival history. Fencing on them would
   * withdraw the very checkpoint the successor continues, and leave this run's output up to it
   * uncommitted. Returns the ids that are evidence of another run; one that cannot be read counts.
   */
  async #notContinuing(others: readonly number[], own: CheckpointMetadata): Promise<number[]> {
    const continuing = new Set([own.checkpointId]);
    const evidence: number[] = [];
    for (const n of [...others].sort((a, b) => a - b)) {
      const m = await readMetadata(this.storage, n).catch(() => undefined);
      if (m?.runId !== undefined && m.runId === own.nextOwner && m.previousCheckpoint !== undefined && continuing.has(m.previousCheckpoint)) continuing.add(n);
      else evidence.push(n);
    }
    return evidence;
  }

  /**
   * Takes back a `_metadata` this run created: deleted, then marked FAILED. If storage refuses
   * even the delete the checkpoint stays COMPLETED: the owner's next checkpoint then fences
   * (loudly) rather than anyone silently continuing two histories.
   */
  async #withdraw(id: number, reason: string): Promise<void> {
    await writeFailedMarker(this.storage, id, reason)
      .catch(() => this.storage.delete([metadataKey(id)]))
      .catch(() => undefined);
  }

  /**
   * Marks a checkpoint FAILED (deleting a `_metadata` whose write was reported failed but may
   * have landed). Not when the `_metadata` there names another run: that checkpoint is theirs
   * (an old run that wakes up and aborts a checkpoint whose id the owner has since used must not
   * delete the owner's commit).
   */
  async writeFailed(id: number, reason: string): Promise<void> {
    if (this.options.runId !== undefined && (await this.#writtenByAnotherRun(id))) return;
    await writeFailedMarker(this.storage, id, reason);
  }

  async #writtenByAnotherRun(id: number): Promise<boolean> {
    if (!(await this.storage.exists(metadataKey(id)))) return false;
    try {
      const runId = (await readMetadata(this.storage, id)).runId;
      return runId !== undefined && runId !== this.options.runId;
    } catch (error) {
      // Absent (the usual case) or unreadable: nobody's commit, safe to mark failed.
      if (error instanceof CheckpointNotFoundError || error instanceof CorruptCheckpointError) return false;
      throw error;
    }
  }

  /**
   * Deletes discarded checkpoints and the shared chunks no remaining completed checkpoint (read
   * from storage) uses; those a live follower pin names are kept and tried again next time, and so
   * are those a discard under way had not reached when the store was made quiet (see quiet).
   */
  async discard(ids: readonly number[]): Promise<void> {
    await this.#serially(async () => {
      const all = [...new Set([...this.#held, ...ids])].sort((a, b) => a - b);
      this.#held = (await discardUnlessPinned(this.storage, all, this.#now(), () => this.#open !== undefined)).held;
    });
  }

  /** Queues a sweep (after running discards and sweeps); its outcome goes to `onSweep`. */
  sweep(scope: SweepScope): Promise<void> {
    return this.#serially(() => sweepJobDirectory(this.storage, scope)).then(
      (report) => this.options.onSweep?.({ report }),
      (error: unknown) => this.options.onSweep?.({ error }),
    );
  }

  /**
   * `true`: discards and sweeps queued from now on, or queued but not started, wait until
   * `quiet(false)` (a handover's successor restores from this store; see CheckpointDriver); a
   * discard under way stops before its next checkpoint and leaves the rest to the next discard.
   *
   * @example persistence.quiet(true); // ... the successor's stage 2 ... persistence.quiet(false);
   */
  quiet(on: boolean): void {
    if (on && this.#open === undefined) {
      this.#gate = new Promise((resolve) => {
        this.#open = resolve;
      });
    } else if (!on && this.#open !== undefined) {
      this.#open();
      this.#open = undefined;
    }
  }

  /** Resolves once every discard and sweep queued so far has ended (never while quiet with work queued). */
  async idle(): Promise<void> {
    for (let seen: Promise<unknown> | undefined; seen !== this.#housekeeping; ) {
      seen = this.#housekeeping;
      await seen.catch(() => undefined);
    }
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#housekeeping
      .catch(() => undefined)
      .then(() => this.#gate)
      .then(work);
    this.#housekeeping = next;
    return next;
  }
}
