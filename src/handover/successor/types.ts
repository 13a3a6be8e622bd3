// Deployment B's options (what it reports is SuccessorHandoverEvent, in the runtime's handover-event.ts).

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
