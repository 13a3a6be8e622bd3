// Deployment B's options and what it reports of a handover.
import type { HandoverMetrics } from '../../runtime/coordinator/start-sequence.ts';

/** `handover` options of runJob, resolved. */
export interface HandoverOptions {
  readonly targetCheckpoint: number | 'when-ready';
  readonly leaseMs: number;
  readonly timeoutMs: number;
  readonly onTimeout: 'fail' | 'start-from-latest';
  readonly pollMs: number;
  readonly requestStop: boolean;
  readonly allowStaleTarget: boolean;
}

/** One step of a handover, as deployment B's job handle 'handover' events report it. */
export interface HandoverEvent {
  readonly phase: 'stop-requested' | 'stage1-done' | 'followed' | 'passed-over' | 'follow-skipped' | 'target-moved' | 'announced' | 'stage2-done' | 'downtime' | 'done' | 'aborted';
  readonly at: number;
  readonly checkpointId?: number;
  readonly detail?: string;
  readonly metrics: HandoverMetrics;
}
