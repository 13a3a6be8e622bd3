// A job handle's 'handover' events, defined once: what deployment B (the successor) and deployment
// A (the predecessor) report. The handover shells emit them, the metrics and the logger read them.
import type { HandoverMetrics } from './start-sequence.ts';

/** One step of deployment B's handover, with what it measured so far. */
export interface SuccessorHandoverEvent {
  readonly side?: undefined;
  readonly phase:
    | 'stop-requested'
    | 'stage1-done'
    | 'followed'
    | 'passed-over'
    | 'follow-skipped'
    | 'target-moved'
    | 'announced'
    | 'stage2-done'
    | 'downtime'
    | 'done'
    | 'aborted'
    // The promotion guard's verdict (both modes), and the shadow mode's own steps.
    | 'guard'
    | 'refused'
    | 'shadow'
    | 'shadow-sample'
    | 'held'
    | 'cut'
    | 'live';
  readonly at: number;
  readonly checkpointId?: number;
  readonly detail?: string;
  readonly metrics: HandoverMetrics;
  readonly rollbackDowntimeMs?: undefined;
}

/** One step of deployment A's side: stop requested, standby, ended, or the rollback and its downtime. */
export interface PredecessorHandoverEvent {
  readonly side: 'predecessor';
  readonly phase: 'stop-requested' | 'standby' | 'ended' | 'rollback' | 'resumed';
  readonly at: number;
  readonly checkpointId: number | undefined;
  readonly detail: string;
  /** `resumed` only: from A's last record before the stop checkpoint to its first after resuming. */
  readonly rollbackDowntimeMs?: number;
  readonly metrics?: undefined;
}

/**
 * A 'handover' event of a job handle: deployment B's steps (with `metrics`) or deployment A's
 * (`side: 'predecessor'`).
 *
 * @example job.on('handover', (e) => console.log(e.side ?? 'successor', e.phase, e.metrics?.targetCheckpoint));
 */
export type HandoverEvent = SuccessorHandoverEvent | PredecessorHandoverEvent;
