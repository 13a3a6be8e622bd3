// Deployment A's side of the handover, pure: honour a live request, stop at once, stand by, then end or resume.
import { leaseProblem, withRevoked } from './lease.ts';
import { inPhase, movePredecessor } from './transitions.ts';
import type { ObservedRequest, PredecessorEffect, PredecessorEvent, PredecessorState, Step } from './types.ts';

type PredecessorStep = Step<PredecessorState, PredecessorEffect>;

/** A running job (run `self`) that honours no request yet. @example let a = initialPredecessor(handle.runId); */
export function initialPredecessor(self?: string): PredecessorState {
  return { side: 'predecessor', phase: 'running', self, request: undefined, stopAt: undefined, standbySince: undefined, revoked: [], ignored: undefined };
}

/**
 * One step of A's side. A request with a live lease makes A stop at once (`when-ready`) or after
 * the fixed checkpoint; after a successor's stop checkpoint A stands by until the successor's
 * first checkpoint completes (end) or its lease expires / it withdraws (resume). An operator's
 * request (no run id, no lease) stops A as before: no standby, nothing to roll back to.
 */
export function stepPredecessor(state: PredecessorState, event: PredecessorEvent): PredecessorStep {
  if (state.phase === 'ended') return { state, effects: [] };
  switch (event.type) {
    case 'observed':
      // A successor in probation still holds its own request up (for its predecessor): not one for itself.
      if (event.request?.runId !== undefined && event.request.runId === state.self) return { state, effects: [] };
      if (inPhase(state, 'running')) return onRequestWhileRunning(state, event.request, event.at);
      if (inPhase(state, 'stopping')) return onRequestWhileStopping(state, event.request, event.at);
      if (inPhase(state, 'standby')) return onObservedInStandby(state, event.request, event.at, event.successorCheckpoint);
      return { state, effects: [] };
    case 'stop-scheduled':
      if (!inPhase(state, 'stopping')) return { state, effects: [] };
      return { state: { ...state, stopAt: event.id }, effects: [] };
    case 'stop-completed':
      return onStopCompleted(state, event.id, event.at);
  }
}

function onRequestWhileRunning(state: PredecessorState & { readonly phase: 'running' }, request: ObservedRequest | undefined, at: number): PredecessorStep {
  if (!request) return { state: { ...state, ignored: undefined }, effects: [] };
  const problem = leaseProblem(request, at, state.revoked);
  if (problem !== undefined) {
    // A dead successor's leftover (or a late renewal of a run A gave up on) is ignored, never
    // obeyed, and removed each time it is seen: its author, if alive, then finds it gone and aborts.
    const clear: PredecessorEffect[] = request.runId === undefined ? [] : [{ type: 'clear-request', runId: request.runId }];
    const key = `${request.runId}@${request.leaseExpiresAt}`;
    if (state.ignored === key) return { state, effects: clear };
    return { state: { ...state, ignored: key }, effects: [...clear, { type: 'request-ignored', reason: problem }] };
  }
  const next = movePredecessor(state, 'stopping', { request, stopAt: request.afterCheckpoint, ignored: undefined, withdrawn: undefined });
  if (request.runId === undefined) return { state: next, effects: [{ type: 'stop-after', id: request.afterCheckpoint! }] };
  if (request.afterCheckpoint === undefined) return { state: next, effects: [{ type: 'stop-at-once', nextOwner: request.runId }] };
  return { state: next, effects: [{ type: 'stop-after', id: request.afterCheckpoint, nextOwner: request.runId }] };
}

/** Before the stop checkpoint completes: a request that went away (or whose lease ran out) is withdrawn. */
function onRequestWhileStopping(state: PredecessorState & { readonly phase: 'stopping' }, request: ObservedRequest | undefined, at: number): PredecessorStep {
  const honoured = state.request!;
  const same = request !== undefined && request.runId === honoured.runId && request.afterCheckpoint === honoured.afterCheckpoint;
  if (same && leaseProblem(request, at, state.revoked) === undefined) return { state: { ...state, request }, effects: [] };
  const reason = !request ? 'withdrawn' : !same ? 'replaced by another request' : leaseProblem(request, at, state.revoked)!;
  const revoked = honoured.runId === undefined ? state.revoked : withRevoked(state.revoked, honoured.runId);
  const next = movePredecessor(state, 'running', { request: undefined, stopAt: undefined, revoked, withdrawn: reason });
  const effects: PredecessorEffect[] = [{ type: 'withdraw-stop', id: state.stopAt }];
  // A lease that expired leaves its object behind: A removes it so nothing later obeys it.
  if (request && same && honoured.runId !== undefined) effects.push({ type: 'clear-request', runId: honoured.runId });
  effects.push({ type: 'request-ignored', reason });
  // The new request (another run's) is looked at on the next observation, from a clean `running`.
  return { state: next, effects };
}

function onStopCompleted(state: PredecessorState, id: number, at: number): PredecessorStep {
  if (inPhase(state, 'stopping')) {
    // An operator's stop: A ends as a plain stop with checkpoint.
    if (state.request?.runId === undefined) return { state: movePredecessor(state, 'ended', { stopAt: id }), effects: [{ type: 'end', successorCheckpoint: id }] };
    return { state: movePredecessor(state, 'standby', { stopAt: id, standbySince: at }), effects: [{ type: 'enter-standby', id }] };
  }
  // The request was withdrawn after the stop's barrier went out: the sources paused anyway. A
  // resumes at once (standby would only wait for a successor that no longer exists).
  const why = state.withdrawn === undefined ? '' : ` (${state.withdrawn})`;
  return { state: { ...state, withdrawn: undefined }, effects: [{ type: 'resume', reason: `the stop request was withdrawn after its checkpoint was triggered${why}` }] };
}

/**
 * Standby: whether this look must also list the directory for the successor's first checkpoint.
 * Always when the request it just read would make A resume (gone, replaced, its lease run out):
 * the successor removes its request only after that checkpoint, so it tells "done" from "gone".
 * While the successor's live request is up, the listing can only end A sooner, and waits until
 * `due` (a listing is the costliest look, and the successor's stage 2 reads the same store).
 *
 * @example if (standbyNeedsListing(state, request, Date.now(), sinceLastListing >= pollMs)) list();
 */
export function standbyNeedsListing(state: PredecessorState, request: ObservedRequest | undefined, at: number, due: boolean): boolean {
  if (state.phase !== 'standby') return false;
  if (due) return true;
  const mine = request !== undefined && request.runId === state.request?.runId;
  return !mine || leaseProblem(request, at, state.revoked) !== undefined;
}

/**
 * Standby: the successor's first checkpoint (any completed checkpoint after the stop checkpoint)
 * ends A. Otherwise a missing, replaced or expired request means the successor is gone: resume.
 */
function onObservedInStandby(
  state: PredecessorState & { readonly phase: 'standby' },
  request: ObservedRequest | undefined,
  at: number,
  successorCheckpoint: number | undefined,
): PredecessorStep {
  if (successorCheckpoint !== undefined && successorCheckpoint > (state.stopAt ?? 0)) {
    return { state: movePredecessor(state, 'ended'), effects: [{ type: 'end', successorCheckpoint }] };
  }
  const honoured = state.request!;
  const mine = request !== undefined && request.runId === honoured.runId;
  const problem = !request ? 'the successor withdrew its request (it aborted)' : !mine ? 'the request was replaced by another run' : leaseProblem(request, at, state.revoked);
  if (problem === undefined) return { state: { ...state, request }, effects: [] };
  const runId = honoured.runId!;
  const next = movePredecessor(state, 'running', { request: undefined, stopAt: undefined, standbySince: undefined, revoked: withRevoked(state.revoked, runId) });
  const effects: PredecessorEffect[] = [{ type: 'resume', reason: problem }];
  if (mine) effects.push({ type: 'clear-request', runId });
  return { state: next, effects };
}
