// The job lifecycle as a pure transition function: which status follows which event.
import { BatonInternalError, registerErrors } from '../../errors/index.ts';

export const JobStatus = {
  CREATED: 'CREATED',
  INITIALIZING: 'INITIALIZING',
  RUNNING_PRE_STATE_HOOKS: 'RUNNING_PRE_STATE_HOOKS',
  RESTORING: 'RESTORING',
  WAITING_FOR_START_SIGNAL: 'WAITING_FOR_START_SIGNAL',
  RUNNING: 'RUNNING',
  /**
   * A handover's predecessor after its stop checkpoint: threads and state warm, sources paused,
   * until the successor's first checkpoint completes (then SUSPENDED) or the successor fails
   * (then RUNNING again, from the stop checkpoint: the rollback).
   */
  STANDBY: 'STANDBY',
  /**
   * Deployment B in shadow mode: bootstrapped from the running job's checkpoint, it processes the
   * live input with its own code while its sinks write to their shadow destination; it owns
   * nothing in the job directory. Promotion (the cut) moves it to RUNNING.
   */
  SHADOW: 'SHADOW',
  RESTARTING: 'RESTARTING',
  FINISHED: 'FINISHED',
  SUSPENDED: 'SUSPENDED',
  CANCELED: 'CANCELED',
  FAILED: 'FAILED',
} as const;

export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export type JobEvent =
  | { type: 'initialize' }
  | { type: 'workers-ready' }
  | { type: 'hooks-done' }
  | { type: 'state-restored' }
  | { type: 'start-signal' }
  | { type: 'input-ended' }
  | { type: 'suspended' }
  | { type: 'standby' }
  | { type: 'resumed' }
  | { type: 'shadow-start' }
  | { type: 'promoted' }
  | { type: 'cancel' }
  | { type: 'fail'; error: unknown }
  | { type: 'restart' };

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  JobStatus.FINISHED,
  JobStatus.SUSPENDED,
  JobStatus.CANCELED,
  JobStatus.FAILED,
]);

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Thrown for an event the current status does not accept: a bug in the caller, not user input. */
export class IllegalTransitionError extends BatonInternalError {
  static override readonly code: string = 'BATON_ERR_ILLEGAL_TRANSITION';
  override name = 'IllegalTransitionError';
  constructor(
    readonly from: JobStatus,
    readonly event: JobEvent['type'],
  ) {
    super(`job status ${from} does not accept event '${event}'`);
  }
}

/**
 * Next status after `event`. Start-up walks CREATED → INITIALIZING → RUNNING_PRE_STATE_HOOKS →
 * RESTORING → WAITING_FOR_START_SIGNAL → RUNNING; a job without handover passes straight through
 * WAITING_FOR_START_SIGNAL. A handover's predecessor may pass RUNNING → STANDBY → RUNNING (rollback)
 * or STANDBY → SUSPENDED. A shadow deployment passes WAITING_FOR_START_SIGNAL → SHADOW → RUNNING
 * (promoted at the cut); it never suspends, finishes or stands by while in SHADOW. Cancel and failure are accepted from every non-terminal status;
 * a restart from every status of a started job (not CREATED, not while already RESTARTING).
 */
export function nextJobStatus(status: JobStatus, event: JobEvent): JobStatus {
  if (isTerminal(status)) throw new IllegalTransitionError(status, event.type);
  switch (event.type) {
    case 'cancel':
      return JobStatus.CANCELED;
    case 'fail':
      return JobStatus.FAILED;
    case 'restart':
      if (status === JobStatus.CREATED || status === JobStatus.RESTARTING) throw new IllegalTransitionError(status, event.type);
      return JobStatus.RESTARTING;
    default:
      break;
  }
  const expected: Partial<Record<JobEvent['type'], readonly JobStatus[]>> = {
    initialize: [JobStatus.CREATED, JobStatus.RESTARTING],
    'workers-ready': [JobStatus.INITIALIZING],
    'hooks-done': [JobStatus.RUNNING_PRE_STATE_HOOKS],
    'state-restored': [JobStatus.RESTORING],
    'start-signal': [JobStatus.WAITING_FOR_START_SIGNAL],
    'input-ended': [JobStatus.RUNNING],
    suspended: [JobStatus.RUNNING, JobStatus.STANDBY],
    standby: [JobStatus.RUNNING],
    resumed: [JobStatus.STANDBY],
    'shadow-start': [JobStatus.WAITING_FOR_START_SIGNAL],
    promoted: [JobStatus.SHADOW],
  };
  const next: Partial<Record<JobEvent['type'], JobStatus>> = {
    initialize: JobStatus.INITIALIZING,
    'workers-ready': JobStatus.RUNNING_PRE_STATE_HOOKS,
    'hooks-done': JobStatus.RESTORING,
    'state-restored': JobStatus.WAITING_FOR_START_SIGNAL,
    'start-signal': JobStatus.RUNNING,
    'input-ended': JobStatus.FINISHED,
    suspended: JobStatus.SUSPENDED,
    standby: JobStatus.STANDBY,
    resumed: JobStatus.RUNNING,
    'shadow-start': JobStatus.SHADOW,
    promoted: JobStatus.RUNNING,
  };
  if (!expected[event.type]?.includes(status)) throw new IllegalTransitionError(status, event.type);
  return next[event.type]!;
}

/** A status change as emitted by a job handle. */
export interface StatusEvent {
  readonly status: JobStatus;
  readonly previous: JobStatus | null;
  /** Wall-clock time of the transition (ms since epoch). */
  readonly at: number;
}

registerErrors(IllegalTransitionError);
