// How long a job spent in each status, from its status events (pure).
import type { JobStatus, StatusEvent } from '../runtime/index.ts';

/**
 * Follows status changes and tells, at each one, how long the job stayed in the status it left.
 *
 * @example
 * const durations = new StatusDurations({ status: 'CREATED', at: 0 });
 * durations.next({ status: 'INITIALIZING', previous: 'CREATED', at: 40 }); // { status: 'CREATED', ms: 40 }
 */
export class StatusDurations {
  private current: { status: JobStatus; at: number };

  constructor(start: { readonly status: JobStatus; readonly at: number }) {
    this.current = { status: start.status, at: start.at };
  }

  /** The status left and its duration (ms); undefined when the event repeats the current status. */
  next(event: StatusEvent): { status: JobStatus; ms: number } | undefined {
    const left = this.current;
    if (event.status === left.status) return undefined;
    this.current = { status: event.status, at: event.at };
    return { status: left.status, ms: Math.max(0, event.at - left.at) };
  }
}
