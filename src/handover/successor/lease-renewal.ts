// B renews the lease of its stop request, in both handover modes, only while the request is still its own.
import { type CheckpointStorage, readStopRequest, writeLeasedStopRequest } from '../../checkpoint/index.ts';

type RequestedBy = Parameters<typeof writeLeasedStopRequest>[1]['requestedBy'];

/** Renewed, or why not: another run's request replaced B's, or the running job removed it. */
export type LeaseRenewal = { readonly renewed: true } | { readonly renewed: false; readonly reason: string };

/**
 * Writes B's request again with a later expiry, keeping what else it asked for (`afterCheckpoint`).
 * Storage errors propagate: the shell tries again on its next tick, and a lease that runs out
 * meanwhile aborts B (the protocol watches the expiry).
 *
 * @example const r = await renewStopRequestLease(storage, runId, now + leaseMs, 'handover');
 */
export async function renewStopRequestLease(storage: CheckpointStorage, runId: string, leaseExpiresAt: number, requestedBy: RequestedBy): Promise<LeaseRenewal> {
  const current = await readStopRequest(storage).catch(() => undefined);
  if (current?.runId !== runId) {
    return { renewed: false, reason: current ? `replaced by run ${current.runId ?? 'an operator'}'s request` : 'the request is gone (the running job gave up on it)' };
  }
  await writeLeasedStopRequest(storage, {
    runId,
    leaseExpiresAt,
    requestedBy,
    ...(current.afterCheckpoint !== undefined ? { afterCheckpoint: current.afterCheckpoint } : {}),
  });
  return { renewed: true };
}
