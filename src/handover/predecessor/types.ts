// What deployment A reports of a handover, on its job handle's 'handover' events.

/** One step of the predecessor's side: stop requested, standby, ended, or the rollback and its downtime. */
export interface PredecessorHandoverEvent {
  readonly side: 'predecessor';
  readonly phase: 'stop-requested' | 'standby' | 'ended' | 'rollback' | 'resumed';
  readonly at: number;
  readonly checkpointId: number | undefined;
  readonly detail: string;
  /** `resumed` only: from A's last record before the stop checkpoint to its first after resuming. */
  readonly rollbackDowntimeMs?: number;
}
