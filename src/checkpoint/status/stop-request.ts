// "Stop right after checkpoint n": a request object under the job's directory that its coordinator polls.
import { InvalidStopRequestError } from '../errors.ts';
import { isValidRunId } from '../ownership/index.ts';
import { StorageNotFoundError } from '../storage/errors.ts';
import type { CheckpointStorage } from '../storage/types.ts';
import { parseHandoverReportKey, STOP_REQUEST_KEY } from '../layout.ts';

// The keys are the layout's; re-exported where the stop request was always found.
export { handoverReportKey, STOP_REQUEST_KEY } from '../layout.ts';

/**
 * Of `keys` (a listing of `handover/`), the handover reports beyond the newest `keep` (by
 * checkpoint id): what a sweep removes. Other keys are never returned.
 *
 * @example handoverReportsBeyond(['handover/report-chk-3.json', 'handover/report-chk-9.json'], 1) // ['handover/report-chk-3.json']
 */
export function handoverReportsBeyond(keys: readonly string[], keep: number): string[] {
  const reports = keys.flatMap((key) => {
    const id = parseHandoverReportKey(key);
    return id === undefined ? [] : [{ key, id }];
  });
  return reports
    .sort((a, b) => b.id - a.id)
    .slice(Math.max(0, keep))
    .map((r) => r.key);
}

/**
 * What the request says: who asked, when, and after which checkpoint the running job must end. A
 * handover successor's request also names its run and a lease it renews (see lease-request.ts);
 * without `afterCheckpoint` it asks for `when-ready`: stop after the next checkpoint, at once.
 */
export interface StopRequest {
  readonly afterCheckpoint?: number;
  readonly requestedAt: number;
  readonly requestedBy: string;
  /** The requesting run (`JobHandle.runId`): the stop checkpoint names it as the next owner of the job directory. */
  readonly runId?: string;
  readonly leaseExpiresAt?: number;
}

/**
 * Asks the job running on this directory to end right after checkpoint `afterCheckpoint`
 * (its sources pause after that barrier; its sink commits through it).
 *
 * @example await writeStopRequest(storage, 117, 'deployment B');
 */
export async function writeStopRequest(storage: CheckpointStorage, afterCheckpoint: number, requestedBy: string): Promise<StopRequest> {
  if (!Number.isSafeInteger(afterCheckpoint) || afterCheckpoint < 1) throw new RangeError(`afterCheckpoint must be a positive integer, got ${afterCheckpoint}`);
  // An operator's request names no run: a successor's carries its run id with a lease (lease-request.ts).
  const request: StopRequest = { afterCheckpoint, requestedAt: Date.now(), requestedBy };
  await storage.put(STOP_REQUEST_KEY, new TextEncoder().encode(JSON.stringify(request)));
  return request;
}

/**
 * The pending request, or undefined; a malformed object is an InvalidStopRequestError naming it, a
 * storage failure is thrown as is. `expected`: the caller expects one (one request instead of two).
 *
 * @example const request = await readStopRequest(jobStorage, { expected: true });
 */
export async function readStopRequest(storage: CheckpointStorage, options: { readonly expected?: boolean } = {}): Promise<StopRequest | undefined> {
  let bytes: Uint8Array;
  if (options.expected) {
    // Expected there (a successor's stop under way, looked at every few ms): one GET, and exists()
    // only to tell a failed GET's "absent" from a storage error.
    try {
      bytes = await storage.get(STOP_REQUEST_KEY);
    } catch (error) {
      if (error instanceof StorageNotFoundError || !(await storage.exists(STOP_REQUEST_KEY))) return undefined;
      throw error;
    }
    return parsedOrThrow(storage, bytes);
  }
  // exists() first: every storage (and test double) agrees on it, not on the not-found error of get().
  if (!(await storage.exists(STOP_REQUEST_KEY))) return undefined;
  try {
    bytes = await storage.get(STOP_REQUEST_KEY);
  } catch (error) {
    if (error instanceof StorageNotFoundError) return undefined;
    throw error;
  }
  return parsedOrThrow(storage, bytes);
}

function parsedOrThrow(storage: CheckpointStorage, bytes: Uint8Array): StopRequest {
  const parsed = parseStopRequest(new TextDecoder().decode(bytes));
  if (!parsed) throw new InvalidStopRequestError(`${storage.uri}/${STOP_REQUEST_KEY}`);
  return parsed;
}

/** Parses a request (pure); undefined when the text is not one. @example parseStopRequest('{"afterCheckpoint":3,"requestedAt":0,"requestedBy":"x"}') */
export function parseStopRequest(text: string): StopRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as Partial<StopRequest> | null;
  if (!v || typeof v !== 'object') return undefined;
  const lease = parseLease(v);
  if (lease === null) return undefined;
  const fixed = Number.isSafeInteger(v.afterCheckpoint) && (v.afterCheckpoint as number) >= 1;
  if (v.afterCheckpoint !== undefined && !fixed) return undefined;
  // Only a leased request (a handover successor's) may leave the checkpoint to the running job.
  if (!fixed && !lease) return undefined;
  return {
    ...(fixed ? { afterCheckpoint: v.afterCheckpoint as number } : {}),
    requestedAt: Number(v.requestedAt) || 0,
    requestedBy: String(v.requestedBy ?? 'unknown'),
    ...lease,
  };
}

/** A run id (see isValidRunId) and a finite lease expiry, both or neither; null: malformed. */
function parseLease(v: Partial<StopRequest>): { runId: string; leaseExpiresAt: number } | undefined | null {
  if (v.runId === undefined && v.leaseExpiresAt === undefined) return undefined;
  // Storage is hostile input: a run id that is not one refuses the whole request.
  if (!isValidRunId(v.runId)) return null;
  if (typeof v.leaseExpiresAt !== 'number' || !Number.isFinite(v.leaseExpiresAt)) return null;
  return { runId: v.runId, leaseExpiresAt: v.leaseExpiresAt };
}

/** Removes the request (a job that took over no longer needs it). */
export async function clearStopRequest(storage: CheckpointStorage): Promise<void> {
  await storage.delete([STOP_REQUEST_KEY]);
}
