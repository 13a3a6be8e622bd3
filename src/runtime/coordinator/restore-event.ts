// The 'restore' event of a job handle: which checkpoint a run (or restart) started from, or that it started empty.
import type { RestoreFrom } from './resolve-restore.ts';

/** Where a run's state came from, emitted once per attempt just before it starts processing. */
export interface RestoreEvent {
  /** The checkpoint restored; undefined: the job started from an empty state. */
  readonly checkpointId: number | undefined;
  /** URI of the job directory (undefined: the job has no checkpoint storage). */
  readonly jobDir: string | undefined;
  /** What was asked for: `restoreFrom`, 'handover' (deployment B), or undefined (a fresh start). */
  readonly requested: RestoreFrom | 'handover' | undefined;
  /** A restart of the run (restoring its newest checkpoint), not its first attempt. */
  readonly restart: boolean;
  /** One line for a log, e.g. "restored checkpoint 7 from file:///data/orders (restoreFrom 'latest')". */
  readonly message: string;
}

/**
 * The log line of a restore event.
 *
 * @example restoreMessage(undefined, 'file:///d/orders', 'latest-or-empty') // "started empty: no checkpoint in file:///d/orders (restoreFrom 'latest-or-empty')"
 */
export function restoreMessage(checkpointId: number | undefined, jobDir: string | undefined, requested: RestoreFrom | 'handover' | undefined): string {
  const asked = requested === undefined ? 'no restoreFrom' : requested === 'handover' ? 'handover' : `restoreFrom ${typeof requested === 'number' ? requested : `'${requested}'`}`;
  if (checkpointId !== undefined) return `restored checkpoint ${checkpointId} from ${jobDir} (${asked})`;
  if (requested === undefined) return 'started empty (no restoreFrom)';
  return `started empty: no checkpoint in ${jobDir} (${asked})`;
}
