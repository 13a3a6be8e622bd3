// The job lifecycle transition function: start-up order, cancel/fail from anywhere live, terminal states.
import { describe, expect, it } from 'vitest';
import {
  IllegalTransitionError,
  isTerminal,
  type JobEvent,
  JobStatus,
  nextJobStatus,
  TERMINAL_STATUSES,
} from '../../../src/runtime/lifecycle/job-status.ts';

const ALL_STATUSES = Object.values(JobStatus);
const NON_TERMINAL = ALL_STATUSES.filter((s) => !TERMINAL_STATUSES.has(s));
const TERMINAL = [JobStatus.FINISHED, JobStatus.SUSPENDED, JobStatus.CANCELED, JobStatus.FAILED];

const ALL_EVENTS: JobEvent[] = [
  { type: 'initialize' },
  { type: 'workers-ready' },
  { type: 'hooks-done' },
  { type: 'state-restored' },
  { type: 'start-signal' },
  { type: 'input-ended' },
  { type: 'suspended' },
  { type: 'standby' },
  { type: 'resumed' },
  { type: 'shadow-start' },
  { type: 'promoted' },
  { type: 'cancel' },
  { type: 'fail', error: new Error('boom') },
  { type: 'restart' },
];

/** The one status each start-up event is accepted from, and where it leads. */
const FORWARD: Array<[JobStatus, JobEvent['type'], JobStatus]> = [
  [JobStatus.CREATED, 'initialize', JobStatus.INITIALIZING],
  [JobStatus.INITIALIZING, 'workers-ready', JobStatus.RUNNING_PRE_STATE_HOOKS],
  [JobStatus.RUNNING_PRE_STATE_HOOKS, 'hooks-done', JobStatus.RESTORING],
  [JobStatus.RESTORING, 'state-restored', JobStatus.WAITING_FOR_START_SIGNAL],
  [JobStatus.WAITING_FOR_START_SIGNAL, 'start-signal', JobStatus.RUNNING],
  [JobStatus.RUNNING, 'input-ended', JobStatus.FINISHED],
];

function event(type: JobEvent['type']): JobEvent {
  return ALL_EVENTS.find((e) => e.type === type)!;
}

function catchTransition(status: JobStatus, e: JobEvent): IllegalTransitionError {
  try {
    nextJobStatus(status, e);
  } catch (error) {
    expect(error).toBeInstanceOf(IllegalTransitionError);
    return error as IllegalTransitionError;
  }
  throw new Error(`${status} accepted '${e.type}'`);
}

describe('nextJobStatus', () => {
  it('walks the happy path CREATED -> ... -> RUNNING -> FINISHED', () => {
    let status: JobStatus = JobStatus.CREATED;
    const seen: JobStatus[] = [status];
    for (const type of ['initialize', 'workers-ready', 'hooks-done', 'state-restored', 'start-signal', 'input-ended'] as const) {
      status = nextJobStatus(status, event(type));
      seen.push(status);
    }
    expect(seen).toEqual([
      'CREATED',
      'INITIALIZING',
      'RUNNING_PRE_STATE_HOOKS',
      'RESTORING',
      'WAITING_FOR_START_SIGNAL',
      'RUNNING',
      'FINISHED',
    ]);
    expect(isTerminal(status)).toBe(true);
  });

  it('suspends a running job', () => {
    expect(nextJobStatus(JobStatus.RUNNING, { type: 'suspended' })).toBe(JobStatus.SUSPENDED);
  });

  it("a handover's predecessor stands by after its stop checkpoint, then ends (SUSPENDED) or resumes (the rollback)", () => {
    const standby = nextJobStatus(JobStatus.RUNNING, { type: 'standby' });
    expect(standby).toBe(JobStatus.STANDBY);
    expect(nextJobStatus(standby, { type: 'suspended' })).toBe(JobStatus.SUSPENDED);
    expect(nextJobStatus(standby, { type: 'resumed' })).toBe(JobStatus.RUNNING);
    for (const status of NON_TERMINAL.filter((s) => s !== JobStatus.RUNNING)) expect(catchTransition(status, event('standby'))).toMatchObject({ event: 'standby' });
    for (const status of NON_TERMINAL.filter((s) => s !== JobStatus.STANDBY)) expect(catchTransition(status, event('resumed'))).toMatchObject({ event: 'resumed' });
    expect(catchTransition(standby, event('input-ended'))).toMatchObject({ from: 'STANDBY' });
  });

  it('a shadow deployment enters SHADOW from WAITING_FOR_START_SIGNAL and is promoted to RUNNING; nothing else enters or leaves SHADOW', () => {
    const shadow = nextJobStatus(JobStatus.WAITING_FOR_START_SIGNAL, { type: 'shadow-start' });
    expect(shadow).toBe(JobStatus.SHADOW);
    expect(nextJobStatus(shadow, { type: 'promoted' })).toBe(JobStatus.RUNNING);
    // A refusal or a kill in shadow ends it like any live job: canceled or failed.
    expect(nextJobStatus(shadow, { type: 'cancel' })).toBe(JobStatus.CANCELED);
    expect(nextJobStatus(shadow, { type: 'fail', error: new Error('refused') })).toBe(JobStatus.FAILED);
    for (const status of NON_TERMINAL.filter((s) => s !== JobStatus.WAITING_FOR_START_SIGNAL)) expect(catchTransition(status, event('shadow-start'))).toMatchObject({ event: 'shadow-start' });
    for (const status of NON_TERMINAL.filter((s) => s !== JobStatus.SHADOW)) expect(catchTransition(status, event('promoted'))).toMatchObject({ event: 'promoted' });
    // In shadow nothing of the job directory is B's: it neither stands by, suspends nor finishes there.
    for (const type of ['standby', 'suspended', 'input-ended', 'resumed', 'start-signal'] as const) expect(catchTransition(shadow, event(type))).toMatchObject({ from: 'SHADOW', event: type });
  });

  it('re-initializes after a restart', () => {
    const restarting = nextJobStatus(JobStatus.RUNNING, { type: 'restart' });
    expect(restarting).toBe(JobStatus.RESTARTING);
    expect(nextJobStatus(restarting, { type: 'initialize' })).toBe(JobStatus.INITIALIZING);
  });

  it.each(NON_TERMINAL)('accepts cancel and fail from %s', (status) => {
    expect(nextJobStatus(status, { type: 'cancel' })).toBe(JobStatus.CANCELED);
    expect(nextJobStatus(status, { type: 'fail', error: new Error('x') })).toBe(JobStatus.FAILED);
  });

  it('knows exactly four terminal statuses', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual([...TERMINAL].sort());
    for (const s of NON_TERMINAL) expect(isTerminal(s)).toBe(false);
    expect(NON_TERMINAL).toHaveLength(9);
  });

  it.each(TERMINAL)('rejects every event in terminal status %s, naming from and event', (status) => {
    for (const e of ALL_EVENTS) {
      const error = catchTransition(status, e);
      expect(error.from).toBe(status);
      expect(error.event).toBe(e.type);
      expect(error.message).toContain(status);
      expect(error.message).toContain(e.type);
    }
  });

  it('rejects every start-up event out of order', () => {
    for (const [acceptedFrom, type] of FORWARD) {
      for (const status of NON_TERMINAL) {
        if (status === acceptedFrom) continue;
        if (type === 'initialize' && status === JobStatus.RESTARTING) continue;
        const error = catchTransition(status, event(type));
        expect(error).toMatchObject({ from: status, event: type });
      }
    }
    const error = catchTransition(JobStatus.CREATED, event('suspended'));
    expect(error).toMatchObject({ from: 'CREATED', event: 'suspended' });
  });

  it('does not skip states: starting a created job is illegal', () => {
    expect(() => nextJobStatus(JobStatus.CREATED, { type: 'start-signal' })).toThrow(IllegalTransitionError);
    expect(() => nextJobStatus(JobStatus.INITIALIZING, { type: 'input-ended' })).toThrow(IllegalTransitionError);
  });
});
