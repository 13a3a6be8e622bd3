// A handover successor's stop request: its run id and a lease it renews, so it cannot outlive its author.
import { readStopRequest, STOP_REQUEST_KEY, type StopRequest } from './stop-request.ts';
import { isValidRunId, RUN_ID_RULE } from '../ownership/index.ts';
import type { CheckpointStorage } from '../storage/types.ts';

/** What a successor publishes (and rewrites to renew the lease). */
export interface LeasedStopRequest {
  readonly runId: string;
  readonly leaseExpiresAt: number;
  /** A fixed target; absent: `when-ready` (the running job stops after its next checkpoint, at once). */
  readonly afterCheckpoint?: number;
  readonly requestedBy: string;
}

/**
 * Publishes (or renews) a successor's request. The running job ignores it once `leaseExpiresAt`
 * passed without a renewal.
 *
 * @example await writeLeasedStopRequest(storage, { runId: handle.runId, leaseExpiresAt: Date.now() + 5_000, requestedBy: 'handover' });
 */
export async function writeLeasedStopRequest(storage: CheckpointStorage, request: LeasedStopRequest): Promise<StopRequest> {
  if (!isValidRunId(request.runId)) throw new RangeError(`runId must be ${RUN_ID_RULE}, got ${JSON.stringify(request.runId)}`);
  if (!Number.isFinite(request.leaseExpiresAt)) throw new RangeError(`leaseExpiresAt must be a finite epoch ms, got ${request.leaseExpiresAt}`);
  const written: StopRequest = { ...request, requestedAt: Date.now() };
  await storage.put(STOP_REQUEST_KEY, new TextEncoder().encode(JSON.stringify(written)));
  return written;
}

/**
 * Removes the request if it is still run `runId`'s (another run's request is left alone). Read
 * then delete: a request replaced in between is lost, which its author sees at its next renewal.
 *
 * @example await removeStopRequestOf(storage, handle.runId);
 */
export async function removeStopRequestOf(storage: CheckpointStorage, runId: string): Promise<boolean> {
  const current = await readStopRequest(storage).catch(() => undefined);
  if (current?.runId !== runId) return false;
  await storage.delete([STOP_REQUEST_KEY]);
  return true;
}
