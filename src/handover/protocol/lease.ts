// Leases of stop requests, pure: a request is honoured only while its author keeps renewing it.
import type { ObservedRequest } from './types.ts';

/** Why a request must not stop the job (expired or revoked lease), or undefined when it may. @example leaseProblem({ runId: 'b', leaseExpiresAt: 5 }, 9, []) // "…expired…" */
export function leaseProblem(request: ObservedRequest, at: number, revoked: readonly string[]): string | undefined {
  if (request.runId === undefined) return undefined;
  if (revoked.includes(request.runId)) return `the request of run ${request.runId} was given up on earlier (its lease expired or it was withdrawn)`;
  if (request.leaseExpiresAt === undefined) return `the request of run ${request.runId} has no lease`;
  if (request.leaseExpiresAt <= at) return `the lease of run ${request.runId}'s request expired ${at - request.leaseExpiresAt} ms ago (its author stopped renewing it)`;
  return undefined;
}

/** Renew when a third of the lease is left: two chances before it runs out. @example renewDue(10_000, 3_000, 6_000) // false */
export function renewDue(leaseExpiresAt: number, leaseMs: number, at: number): boolean {
  return leaseExpiresAt - at <= (leaseMs * 2) / 3;
}

/** Keeps the newest few revoked run ids (a run revokes rarely; the list only guards against a late renewal). */
export function withRevoked(revoked: readonly string[], runId: string): readonly string[] {
  return revoked.includes(runId) ? revoked : [...revoked, runId].slice(-16);
}
