// Ids of the sink's prepared transactions: `baton-<job>-<subtask>-<checkpoint>-<writer>`, derived from
// the job (and sink), the subtask, the checkpoint, and a random id per writer instance (one per run and
// attempt), so no two transactions ever share one and a recover finds this job's own by prefix.
import { createHash, randomBytes } from 'node:crypto';

const GID = /^baton-([0-9a-f]{16})-(0|[1-9]\d{0,8})-(0|[1-9]\d{0,15})-([0-9a-f]{8})$/;

/**
 * The part of every transaction id that names the job and sink: a hash, so any job id and uid
 * fit PostgreSQL's 200-byte limit and need no quoting. A and B of a handover share it.
 *
 * @example jobTransactionKey('orders', 'pg-out') // 16 hex digits
 */
export function jobTransactionKey(jobId: string, sinkUid: string): string {
  return createHash('sha256').update(`${jobId}\0${sinkUid}`).digest('hex').slice(0, 16);
}

/** A random id for one writer instance (one run, attempt and subtask). @example newWriterId() // 'a3f09c1e' */
export function newWriterId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * The id of the transaction that subtask `subtask` prepares for checkpoint `checkpointId`.
 *
 * @example transactionId('0123456789abcdef', 2, 17, 'a3f09c1e') // 'baton-0123456789abcdef-2-17-a3f09c1e'
 */
export function transactionId(jobKey: string, subtask: number, checkpointId: number, writerId: string): string {
  return `baton-${jobKey}-${subtask}-${checkpointId}-${writerId}`;
}

/**
 * The parts of a transaction id of this sink, or undefined when `gid` is not one. Only ids that
 * pass ever reach SQL (PREPARE / COMMIT PREPARED take a literal, not a parameter): they hold
 * letters, digits and '-' only.
 *
 * @example parseTransactionId('baton-0123456789abcdef-2-17-a3f09c1e')?.subtask // 2
 */
export function parseTransactionId(gid: unknown): { jobKey: string; subtask: number; checkpointId: number; writerId: string } | undefined {
  if (typeof gid !== 'string') return undefined;
  const match = GID.exec(gid);
  if (!match) return undefined;
  return { jobKey: match[1], subtask: Number(match[2]), checkpointId: Number(match[3]), writerId: match[4] };
}

/** The LIKE pattern of every transaction id of a job's sink (the key is hex: nothing to escape). */
export function transactionIdPattern(jobKey: string): string {
  return `baton-${jobKey}-%`;
}
