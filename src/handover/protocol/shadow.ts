// Deployment B in shadow mode, pure: shadow beside A, ask the guard, hold, wait for A to pass B's positions, ask A to stop, cut.
import { renewDue } from './lease.ts';
import type { ShadowEffect, ShadowEvent, ShadowPhase, ShadowState } from './shadow-types.ts';
import type { Step } from './types.ts';

type ShadowStep = Step<ShadowState, ShadowEffect>;

/** The shadow's legal moves: a phase the table does not list for another cannot follow it (checked by `move`). */
export interface ShadowMoves {
  bootstrapping: 'shadow' | 'aborted';
  shadow: 'guarding' | 'aborted';
  guarding: 'holding' | 'refused' | 'aborted';
  holding: 'converging' | 'aborted';
  converging: 'announced' | 'cutting' | 'aborted';
  announced: 'cutting' | 'aborted';
  cutting: 'done' | 'aborted';
  done: never;
  refused: never;
  aborted: never;
}

function move<F extends ShadowPhase, T extends ShadowMoves[F]>(state: ShadowState & { readonly phase: F }, to: T, changes: Partial<Omit<ShadowState, 'side' | 'phase'>> = {}): ShadowState {
  return { ...state, ...changes, phase: to };
}

function inPhase<P extends ShadowPhase>(state: ShadowState, phase: P): state is ShadowState & { readonly phase: P } {
  return state.phase === phase;
}

/**
 * A shadow deployment before its hooks run.
 *
 * @example let b = initialShadow({ runId, leaseMs: 5_000, promoteAfterMs: 60_000, timeoutMs: 600_000, onGuardTimeout: 'abort' });
 */
export function initialShadow(init: { readonly runId: string; readonly leaseMs: number; readonly promoteAfterMs: number | undefined; readonly timeoutMs: number; readonly onGuardTimeout: 'promote' | 'abort' }): ShadowState {
  return {
    side: 'shadow',
    phase: 'bootstrapping',
    ...init,
    bootstrap: undefined,
    shadowSince: undefined,
    deadline: undefined,
    leaseExpiresAt: undefined,
    cutFrom: undefined,
    reason: undefined,
  };
}

/**
 * One step of B's shadow side. Pure: no I/O, no clock (events carry `at`). A refusal or a failure
 * before the cut completed ends B and never touches A's output: B wrote nothing of the job
 * directory but its (withdrawn) request, and A resumes from its stop checkpoint if it took one.
 *
 * @example const { state, effects } = stepShadow(b, { type: 'promote', at: Date.now() }); // effects: [{ type: 'evaluate-guard' }]
 */
export function stepShadow(state: ShadowState, event: ShadowEvent): ShadowStep {
  if (state.phase === 'done' || state.phase === 'refused' || state.phase === 'aborted') return { state, effects: [] };
  switch (event.type) {
    case 'bootstrapped':
      if (!inPhase(state, 'bootstrapping')) return unexpected(state, event.type);
      return { state: move(state, 'shadow', { bootstrap: event.checkpointId, shadowSince: event.at }), effects: [] };
    case 'promote':
      if (!inPhase(state, 'shadow')) return { state, effects: [] };
      return { state: move(state, 'guarding'), effects: [{ type: 'evaluate-guard' }] };
    case 'guard-answered':
      return onGuardAnswer(state, event.answer);
    case 'held':
      if (!inPhase(state, 'holding')) return unexpected(state, event.type);
      return { state: move(state, 'converging', { deadline: event.at + state.timeoutMs }), effects: [{ type: 'watch-predecessor' }] };
    case 'predecessor-checkpoint':
      return onPredecessorCheckpoint(state, event);
    case 'lease-renewed':
      return { state: { ...state, leaseExpiresAt: Math.max(state.leaseExpiresAt ?? 0, event.leaseExpiresAt) }, effects: [] };
    case 'lease-lost':
      if (state.leaseExpiresAt === undefined) return { state, effects: [] };
      return abort(state, `lost its stop request: ${event.reason}`);
    case 'first-checkpoint':
      if (!inPhase(state, 'cutting')) return { state, effects: [] };
      return { state: move(state, 'done'), effects: [{ type: 'withdraw-request', reason: 'done' }] };
    case 'failed':
      return abort(state, event.reason, false);
    case 'tick':
      return onTick(state, event.at);
  }
}

function onGuardAnswer(state: ShadowState, answer: Extract<ShadowEvent, { type: 'guard-answered' }>['answer']): ShadowStep {
  if (!inPhase(state, 'guarding')) return { state, effects: [] };
  const promote = answer.kind === 'promote' || (answer.kind === 'timeout' && state.onGuardTimeout === 'promote');
  if (promote) return { state: move(state, 'holding'), effects: [{ type: 'hold-sources' }] };
  const reason = answer.kind === 'refused' ? answer.reason : `the promotion guard did not answer within ${answer.timeoutMs} ms (onGuardTimeout: 'abort')`;
  return { state: move(state, 'refused', { reason }), effects: [{ type: 'refuse', reason }] };
}

function onPredecessorCheckpoint(state: ShadowState, event: Extract<ShadowEvent, { type: 'predecessor-checkpoint' }>): ShadowStep {
  const { checkpointId: id, coverage, endsJob, nextOwner } = event;
  if (!inPhase(state, 'converging') && !inPhase(state, 'announced')) return { state, effects: [] };
  if (typeof coverage === 'object') return abort(state, `chk-${id} cannot be the cut: ${coverage.problem}`);
  if (endsJob && nextOwner !== undefined && nextOwner !== state.runId) return abort(state, `the running job stopped at chk-${id} for run ${nextOwner}, not this one`);
  if (inPhase(state, 'converging')) {
    if (endsJob) {
      // A ended on its own (finished, or stopped by an operator): nobody to ask; its last checkpoint is the cut if B is not past it.
      if (coverage === 'behind') return abort(state, `the running job ended at chk-${id}, before the positions the shadow already processed`);
      return { state: move(state, 'cutting', { cutFrom: id }), effects: [{ type: 'cut', checkpointId: id }] };
    }
    if (coverage === 'behind') return { state, effects: [] };
    const leaseExpiresAt = event.at + state.leaseMs;
    return { state: move(state, 'announced', { leaseExpiresAt }), effects: [{ type: 'publish-request', runId: state.runId, leaseExpiresAt }] };
  }
  // Announced: A's checkpoint in flight when it saw the request passes; its stop checkpoint names B.
  if (!endsJob) return { state, effects: [] };
  // A's positions only grow: a stop checkpoint behind what B holds means its job was restored from an older one meanwhile.
  if (coverage === 'behind') return abort(state, `the running job's stop checkpoint chk-${id} is before the positions the shadow already processed`);
  return { state: move(state as ShadowState & { phase: 'announced' }, 'cutting', { cutFrom: id }), effects: [{ type: 'cut', checkpointId: id }] };
}

function onTick(state: ShadowState, at: number): ShadowStep {
  if (inPhase(state, 'shadow') && state.promoteAfterMs !== undefined && at - (state.shadowSince ?? at) >= state.promoteAfterMs) {
    return { state: move(state, 'guarding'), effects: [{ type: 'evaluate-guard' }] };
  }
  if ((inPhase(state, 'converging') || inPhase(state, 'announced')) && state.deadline !== undefined && at >= state.deadline) {
    const waited = inPhase(state, 'converging') ? "the running job's checkpoints to pass the shadow's positions" : "the running job's stop checkpoint";
    return abort(state, `waited ${state.timeoutMs} ms for ${waited}`);
  }
  const lease = state.leaseExpiresAt;
  if (lease === undefined || !(inPhase(state, 'announced') || inPhase(state, 'cutting'))) return { state, effects: [] };
  // Until B's cut checkpoint completes A stands by on the request: B must keep it alive, or give up before A resumes.
  if (at >= lease) return abort(state, `its stop request's lease ran out at ${lease} (the store did not take a renewal in time)`);
  if (!renewDue(lease, state.leaseMs, at)) return { state, effects: [] };
  return { state, effects: [{ type: 'renew-lease', leaseExpiresAt: at + state.leaseMs }] };
}

/** Ends B before the cut completed: the request withdrawn if one is out (A then resumes or goes on), and B fails unless it failed already. */
function abort(state: ShadowState, reason: string, fail = true): ShadowStep {
  const effects: ShadowEffect[] = [];
  if (state.leaseExpiresAt !== undefined) effects.push({ type: 'withdraw-request', reason: 'aborted' });
  if (fail) effects.push({ type: 'fail', reason });
  return { state: { ...state, phase: 'aborted', reason }, effects };
}

/** An event the phase cannot get: a bug in the shell, reported as a failure rather than ignored. */
function unexpected(state: ShadowState, type: string): ShadowStep {
  return abort(state, `the shadow got '${type}' while ${state.phase}`);
}

// Every phase must be in the table (and nothing else): a phase added without its moves fails to compile.
type Exactly<T, U> = [T] extends [U] ? ([U] extends [T] ? true : never) : never;
const tableComplete: Exactly<keyof ShadowMoves, ShadowPhase> = true;
void tableComplete;
