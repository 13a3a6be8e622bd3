// Writes what the checkpoint coordinator decides into storage: metadata last, failure markers, discards, sweeps.
import { metadataKey } from '../../checkpoint/layout.ts';
import { encodeMetadata } from '../../checkpoint/metadata/metadata-codec.ts';
import { discardUnlessPinned } from '../../checkpoint/registry/chunk-cleaner.ts';
import { type SweepReport, type SweepScope, sweepJobDirectory } from '../../checkpoint/registry/sweep.ts';
import { writeFailedMarker } from '../../checkpoint/status/checkpoint-status.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/types.ts';
import type { CheckpointPersistence } from './checkpoint-driver.ts';

/** What a sweep of the job directory did, or why it could not (it is retried at the next one). */
export type SweepOutcome = { readonly report: SweepReport } | { readonly error: unknown };

/** The job handle's `storage-sweep` event: a sweep's outcome; `takeover` for the one when a run restores from the directory. */
export type StorageSweepEvent = SweepOutcome & { readonly takeover?: boolean };

/** Least time between two sweeps after completed checkpoints (a stop checkpoint always sweeps). */
export const SWEEP_INTERVAL_MS = 10_000;

export interface PersistenceOptions {
  /** Completed checkpoints kept in the job directory. */
  readonly retain: number;
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

  /** `_metadata` is one atomic write, after every chunk it names is stored: its existence means COMPLETED. */
  async writeMetadata(metadata: CheckpointMetadata): Promise<void> {
    await this.storage.put(metadataKey(metadata.checkpointId), encodeMetadata(metadata));
    const due = metadata.endsJob === true || this.#now() - this.#lastSweepAt >= (this.options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
    if (!due) return;
    this.#lastSweepAt = this.#now();
    // Everything from the next checkpoint on may still be written by this job.
    this.sweep({ retain: this.options.retain, activeFrom: metadata.checkpointId + 1, spillSegments: false, temporariesBefore: metadata.triggeredAt });
  }

  writeFailed(id: number, reason: string): Promise<void> {
    return writeFailedMarker(this.storage, id, reason);
  }

  /**
   * Deletes discarded checkpoints and the shared chunks no remaining completed checkpoint (read
   * from storage) uses; those a live follower pin names are kept and tried again next time.
   */
  async discard(ids: readonly number[]): Promise<void> {
    await this.#serially(async () => {
      const all = [...new Set([...this.#held, ...ids])].sort((a, b) => a - b);
      this.#held = (await discardUnlessPinned(this.storage, all, this.#now())).held;
    });
  }

  /** Queues a sweep (after running discards and sweeps); its outcome goes to `onSweep`. */
  sweep(scope: SweepScope): Promise<void> {
    return this.#serially(() => sweepJobDirectory(this.storage, scope)).then(
      (report) => this.options.onSweep?.({ report }),
      (error: unknown) => this.options.onSweep?.({ error }),
    );
  }

  /** Resolves once every discard and sweep queued so far has ended. */
  async idle(): Promise<void> {
    for (let seen: Promise<unknown> | undefined; seen !== this.#housekeeping; ) {
      seen = this.#housekeeping;
      await seen.catch(() => undefined);
    }
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#housekeeping.catch(() => undefined).then(work);
    this.#housekeeping = next;
    return next;
  }
}
