// What a PostgreSQL sink subtask saves in a checkpoint, and its check when read back (hostile input).
import type { StoredValueProblem } from '../connector-api.ts';
import { parseTransactionId } from './transaction-ids.ts';

/** Transactions this subtask prepared and had not committed when the checkpoint was taken (its own included). */
export interface PostgresSinkState {
  readonly subtaskIndex: number;
  readonly staged: ReadonlyArray<{ readonly checkpointId: number; readonly gid: string }>;
}

const isIndex = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function check(field: string, ok: boolean, expected: string, value: unknown): StoredValueProblem | undefined {
  return ok ? undefined : { field, expected, value };
}

/**
 * The first way `state` (read back from a checkpoint) is not a PostgresSinkState this sink wrote, or
 * undefined. Transaction ids reach SQL as literals, so only ids of the sink's own pattern pass
 * (letters, digits, '-'); `jobKey`, when given, must be this job's and sink's.
 *
 * @example postgresSinkStateProblem({ subtaskIndex: 0, staged: [{ checkpointId: 3, gid: "x'; DROP TABLE t; --" }] })?.field // '.staged[0].gid'
 */
export function postgresSinkStateProblem(state: unknown, jobKey?: string): StoredValueProblem | undefined {
  // Mode 'upsert' saves nothing.
  if (state === undefined || state === null) return undefined;
  if (typeof state !== 'object' || Array.isArray(state)) return check('', false, 'a PostgreSQL sink state { subtaskIndex, staged }', state);
  const s = state as Record<string, unknown>;
  const problem =
    check('.subtaskIndex', isIndex(s.subtaskIndex), 'a subtask index (a non-negative integer)', s.subtaskIndex) ??
    check('.staged', Array.isArray(s.staged), 'an array of { checkpointId, gid }', s.staged);
  if (problem !== undefined) return problem;
  const staged = s.staged as unknown[];
  for (let i = 0; i < staged.length; i++) {
    const entry = staged[i] as Record<string, unknown> | null;
    const at = `.staged[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return check(at, false, '{ checkpointId, gid }', entry);
    const gid = parseTransactionId(entry.gid);
    const entryProblem =
      check(`${at}.checkpointId`, isIndex(entry.checkpointId), 'a checkpoint id (a non-negative integer)', entry.checkpointId) ??
      check(`${at}.gid`, gid !== undefined, "a transaction id 'baton-<job>-<subtask>-<checkpoint>-<writer>'", entry.gid) ??
      check(`${at}.gid`, jobKey === undefined || gid!.jobKey === jobKey, `a transaction id of this job and sink (baton-${jobKey}-…)`, entry.gid) ??
      check(`${at}.gid`, gid!.checkpointId === entry.checkpointId, `the transaction id of checkpoint ${String(entry.checkpointId)}`, entry.gid);
    if (entryProblem !== undefined) return entryProblem;
  }
  return undefined;
}
