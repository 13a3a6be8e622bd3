// A follower's pin on the checkpoints it reads, with a lease it renews until it lets go.
import { BatonInternalError } from '../../errors/index.ts';
import { pinKey, writePin } from '../../checkpoint/status/follower-pin.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';

/** Default lease of a pin (ms): a follower that stops renewing (it died) holds nothing after this. */
export const PIN_LEASE_MS = 10_000;

export interface PinLeaseOptions {
  /** Lease of each write (ms); renewed every third of it. Default {@link PIN_LEASE_MS}. */
  readonly leaseMs?: number;
  readonly now?: () => number;
  /** A renewal failed (storage): the lease may run out, which costs the follower a skipped checkpoint, never state. */
  readonly onRenewalError?: (error: unknown) => void;
}

/**
 * Deployment B's pin (`handover/pin-<runId>.json`) on the checkpoints it is reading while
 * another run owns the directory: the owner's retention keeps them (B restores without claiming,
 * Flink's NO_CLAIM). `hold` names them before B reads them, a timer renews the lease while B
 * reads, `release` removes the pin. Correctness never rests on the pin: a checkpoint that
 * vanishes anyway (its discard started before the pin landed, clocks disagree by more than the
 * lease) is skipped by the follower; the pin is what lets a lagging follower catch up at all.
 *
 * @example
 * const lease = new PinLease(jobStorage, handle.runId);
 * await lease.hold([41]);
 * // ... read checkpoint 41 ...
 * await lease.release();
 */
export class PinLease {
  #checkpoints: readonly number[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #released = false;
  /** The write under way, if any: release waits for it, so no renewal lands after the delete. */
  #writing: Promise<void> = Promise.resolve();
  readonly #leaseMs: number;
  readonly #now: () => number;

  constructor(
    private readonly storage: CheckpointStorage,
    readonly runId: string,
    private readonly options: PinLeaseOptions = {},
  ) {
    pinKey(runId);
    this.#leaseMs = options.leaseMs ?? PIN_LEASE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The checkpoints pinned now. */
  get checkpoints(): readonly number[] {
    return this.#checkpoints;
  }

  /** Pins exactly `checkpoints` (replacing what was pinned); resolves once the pin is stored. Storage failures are thrown. */
  async hold(checkpoints: readonly number[]): Promise<void> {
    if (this.#released) throw new BatonInternalError(`the pin of run ${this.runId} was released`);
    this.#checkpoints = [...checkpoints];
    await this.#write();
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        this.#write().catch((error: unknown) => this.options.onRenewalError?.(error));
      }, Math.max(1, Math.floor(this.#leaseMs / 3)));
      this.#timer.unref();
    }
  }

  /** Stops renewing and removes the pin (idempotent). */
  async release(): Promise<void> {
    this.#released = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#writing.catch(() => undefined);
    await this.storage.delete([pinKey(this.runId)]);
  }

  #write(): Promise<void> {
    if (this.#released) return Promise.resolve();
    const now = this.#now();
    const write = writePin(this.storage, { runId: this.runId, checkpoints: this.#checkpoints, renewedAt: now, expiresAt: now + this.#leaseMs });
    this.#writing = write;
    return write;
  }
}
