// A handover's predecessor after its stop checkpoint: warm and paused (STANDBY), then ended or resumed (the rollback).
import { BatonInternalError } from '../errors.ts';
import type { CheckpointStats } from './checkpoint-driver.ts';
import type { RollbackReport } from './start-sequence.ts';

/** What the standby needs from its attempt. */
export interface StandbyHost {
  /** Completed checkpoints so far (the stop checkpoint's `lastRecordAt` starts the rollback's downtime). */
  history(): readonly CheckpointStats[];
  /** Checkpointing goes on after the stop checkpoint (the coordinator resumes). */
  resumeCheckpoints(): void;
  /** STANDBY or back to RUNNING, on the job handle. */
  transition(event: 'standby' | 'resumed'): void;
  /** Workers: end after the stop checkpoint, or continue after its barrier. */
  stopWorkers(): void;
  resumeWorkers(id: number): void;
  /** Rejects once the attempt fails. */
  failed(): Promise<never>;
}

/**
 * The standby of one attempt. `enter` after a successor's stop checkpoint; then either `end`
 * (the successor's first checkpoint completed: the workers stop, the job ends SUSPENDED) or
 * `resume` (the successor failed: sources continue after the barrier, checkpoints after the stop
 * checkpoint), which resolves with the rollback's downtime once the first record after it is processed.
 */
export class Standby {
  private at: number | undefined;
  private resumedRecord: ((at: number) => void) | undefined;
  /** Each rollback of this attempt, with its downtime. */
  readonly rollbacks: RollbackReport[] = [];

  constructor(private readonly host: StandbyHost) {}

  /** The stop checkpoint the job stands by after, if it does. */
  get checkpointId(): number | undefined {
    return this.at;
  }

  enter(id: number): void {
    this.at = id;
    this.host.transition('standby');
  }

  end(): void {
    if (this.at === undefined) return;
    this.at = undefined;
    this.host.stopWorkers();
  }

  resume(reason: string): Promise<RollbackReport> {
    const id = this.at;
    if (id === undefined) return Promise.reject(new BatonInternalError('resume() outside standby'));
    const resumedAt = Date.now();
    const lastRecordAt = this.host.history().find((c) => c.id === id && c.status === 'COMPLETED')?.lastRecordAt;
    this.at = undefined;
    const first = new Promise<number>((resolve) => {
      this.resumedRecord = resolve;
    });
    this.host.resumeCheckpoints();
    this.host.transition('resumed');
    this.host.resumeWorkers(id);
    return Promise.race([first, this.host.failed()]).then((firstRecordAt) => {
      const report: RollbackReport = { checkpointId: id, reason, resumedAt, lastRecordAt, firstRecordAt, downtimeMs: lastRecordAt === undefined ? undefined : firstRecordAt - lastRecordAt };
      this.rollbacks.push(report);
      return report;
    });
  }

  /** A worker's first record: true when it is the first after a resume (the rollback's downtime ends there). */
  firstRecord(at: number): boolean {
    const resumed = this.resumedRecord;
    if (!resumed) return false;
    this.resumedRecord = undefined;
    resumed(at);
    return true;
  }
}
