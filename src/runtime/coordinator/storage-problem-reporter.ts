// Reports a storage call that keeps failing (e.g. reading the stop request during an outage) as one
// storage problem with its cause, repeated at most every `repeatMs`, and once more when it works again.

/** A storage call of the coordinator failing (or working again after failures). */
export interface StorageProblemEvent {
  /** What was being done, e.g. `read stop request`. */
  readonly operation: string;
  /** The cause, as the storage reported it (the last one seen). */
  readonly error: string;
  /** Consecutive failures so far (on recovery: how many there were). */
  readonly failures: number;
  /** The call works again; `error` is the last failure's cause. */
  readonly recovered: boolean;
}

/**
 * Turns a stream of failures and successes of one periodic storage call into few events: the
 * first failure of a streak, a reminder at most every `repeatMs` while it lasts, and the recovery.
 *
 * @example
 * const report = new StorageProblemReporter('read stop request', (e) => handle.emit('storage-problem', e));
 * try { await readStopRequest(storage); report.succeeded(); } catch (error) { report.failed(error); }
 */
export class StorageProblemReporter {
  private failures = 0;
  private lastError = '';
  private lastEmitAt = 0;

  constructor(
    private readonly operation: string,
    private readonly emit: (event: StorageProblemEvent) => void,
    private readonly repeatMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  failed(error: unknown): void {
    this.failures++;
    this.lastError = error instanceof Error ? error.message : String(error);
    const at = this.now();
    if (this.failures > 1 && at - this.lastEmitAt < this.repeatMs) return;
    this.lastEmitAt = at;
    this.emit({ operation: this.operation, error: this.lastError, failures: this.failures, recovered: false });
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.emit({ operation: this.operation, error: this.lastError, failures: this.failures, recovered: true });
    this.failures = 0;
  }
}
