// Deployment B's side of the handover, pure: announce when ready, follow, take over, prove itself.
import { renewDue } from './lease.ts';
import { inPhase, moveSuccessor, type SuccessorMoves } from './transitions.ts';
import type { HandoverTarget, Step, SuccessorEffect, SuccessorEvent, SuccessorPhase, SuccessorState } from './types.ts';

type SuccessorStep = Step<SuccessorState, SuccessorEffect>;

/**
 * `when-ready`, announced: how many of A's checkpoints in a row B passes over before it applies
 * one. A answers a request within its poll (and at most one checkpoint in flight), so a handover
 * passes over one to three; the bound keeps stage 2's delta from growing while a predecessor that
 * does not answer keeps checkpointing until B's timeout.
 */
export const MAX_PASSED_OVER = 8;

/**
 * `when-ready`, following: after this many steps in a row that each applied something, B announces
 * although a step never came back empty. A B that applies more slowly than A checkpoints would
 * otherwise never ask; stage 2 applies the rest.
 */
export const MAX_FOLLOW_ROUNDS = 4;

/** The phases among P whose moves do not list 'aborted'. */
type CannotAbort<P extends SuccessorPhase> = P extends unknown ? ('aborted' extends SuccessorMoves[P] ? never : P) : never;
/** 'aborted' only when every phase in P may move there (a phase whose table entry lacks it breaks the build). */
type AbortFrom<P extends SuccessorPhase> = [CannotAbort<P>] extends [never] ? 'aborted' : never;

/**
 * A successor before its hooks run. A fixed target publishes its request right away (as before
 * when-ready existed: the sooner A knows, the nearer the target can be); `when-ready` waits until
 * B is caught up.
 *
 * @example const { state, effects } = initialSuccessor({ runId, target: 'when-ready', leaseMs: 5_000, at: Date.now() });
 */
export function initialSuccessor(init: { readonly runId: string; readonly target: HandoverTarget; readonly leaseMs: number; readonly at: number }): SuccessorStep {
  const state: SuccessorState = {
    side: 'successor',
    phase: 'preparing',
    runId: init.runId,
    target: init.target,
    leaseMs: init.leaseMs,
    leaseExpiresAt: undefined,
    applied: undefined,
    announcedAfter: undefined,
    passedOver: 0,
    followRounds: 0,
    takeoverFrom: undefined,
    startedAt: undefined,
    failure: undefined,
  };
  if (init.target === 'when-ready') return { state, effects: [] };
  const leaseExpiresAt = init.at + init.leaseMs;
  return {
    state: { ...state, leaseExpiresAt },
    effects: [{ type: 'publish-request', runId: init.runId, leaseExpiresAt, afterCheckpoint: init.target }],
  };
}

export function stepSuccessor(state: SuccessorState, event: SuccessorEvent): SuccessorStep {
  if (state.phase === 'done' || state.phase === 'aborted') return { state, effects: [] };
  switch (event.type) {
    case 'failed':
      return abort(state, event.reason);
    case 'lease-lost':
      // Before the start nothing of B's is committed; in probation B's first checkpoint would race A's
      // resumed one, so B ends here (and the fence stops whichever loses the race it could not avoid).
      return abort(state, `lost its stop request: ${event.reason}`);
    case 'lease-renewed':
      return { state: { ...state, leaseExpiresAt: Math.max(state.leaseExpiresAt ?? 0, event.leaseExpiresAt) }, effects: [] };
    case 'tick':
      return onTick(state, event.at);
    case 'stage1-done':
      if (!inPhase(state, 'preparing')) return unexpected(state, event.type);
      // A fixed target's request is out already: B waits for that checkpoint, nothing to announce.
      if (state.target !== 'when-ready') return { state: moveSuccessor(state, 'announced', { applied: event.applied, announcedAfter: event.applied }), effects: [] };
      return { state: moveSuccessor(state, 'following', { applied: event.applied }), effects: [] };
    case 'caught-up':
      return onCaughtUp(state, event.at, event.applied);
    case 'applied':
      return onApplied(state, event.at, event.applied);
    case 'stop-checkpoint':
      return onStopCheckpoint(state, event.id);
    case 'checkpoint-seen':
      return onCheckpointSeen(state, event.id, event.endsJob, event.newBase);
    case 'predecessor-ended':
      if (!inPhase(state, 'following')) return unexpected(state, event.type);
      return { state: moveSuccessor(state, 'taking-over', { takeoverFrom: event.id }), effects: [{ type: 'stage2', checkpointId: event.id }] };
    case 'timed-out':
      // `onTimeout: 'start-from-latest'`: the caller chose to start without A's stop checkpoint
      // (announced, or still following because A never completed a checkpoint to apply).
      if (inPhase(state, 'following')) return { state: moveSuccessor(state, 'taking-over', { takeoverFrom: event.latest }), effects: [{ type: 'stage2', checkpointId: event.latest }] };
      if (!inPhase(state, 'announced')) return unexpected(state, event.type);
      return { state: moveSuccessor(state, 'taking-over', { takeoverFrom: event.latest }), effects: [{ type: 'stage2', checkpointId: event.latest }] };
    case 'stage2-done':
      if (!inPhase(state, 'taking-over')) return unexpected(state, event.type);
      return { state: moveSuccessor(state, 'probation', { startedAt: event.at }), effects: [{ type: 'start' }] };
    case 'first-checkpoint':
      if (!inPhase(state, 'probation')) return unexpected(state, event.type);
      return { state: moveSuccessor(state, 'done'), effects: [{ type: 'withdraw-request', reason: 'done' }] };
  }
}

/**
 * Caught up with A's newest completed checkpoint in WAITING_FOR_START_SIGNAL: now B may ask A to
 * stop — but only once it applied one of A's checkpoints. Before A's first checkpoint, "caught
 * up" means nothing: A's stop checkpoint would carry its whole state (no delta to speak of, and
 * the blocking window of a full restore), and B alone on an empty directory would ask nobody.
 */
function onCaughtUp(state: SuccessorState, at: number, applied: number | undefined): SuccessorStep {
  if (inPhase(state, 'following')) {
    if (applied === undefined) return { state, effects: [] };
    const leaseExpiresAt = at + state.leaseMs;
    const next = moveSuccessor(state, 'announced', { applied, announcedAfter: applied, leaseExpiresAt });
    return { state: next, effects: [{ type: 'publish-request', runId: state.runId, leaseExpiresAt }] };
  }
  if (inPhase(state, 'preparing')) return unexpected(state, 'caught-up');
  // Applied up to `applied`: what B passed over before it is in its state now. A follow's report
  // comes after B asked for it (and maybe for a later one): it never moves `applied` back.
  if (applied === undefined || (state.applied !== undefined && applied <= state.applied)) return { state, effects: [] };
  return { state: { ...state, applied, passedOver: 0 }, effects: [] };
}

/**
 * `when-ready`, following: a step applied A's checkpoints up to `applied`. Announcing now would
 * leave what A completed meanwhile to stage 2 (a slow first follow of A's base can take as long
 * as several of A's checkpoints): B announces once a step applies nothing new (`caught-up`), or
 * after {@link MAX_FOLLOW_ROUNDS} steps in a row that did.
 */
function onApplied(state: SuccessorState, at: number, applied: number): SuccessorStep {
  if (!inPhase(state, 'following')) return unexpected(state, 'applied');
  const followRounds = state.followRounds + 1;
  if (followRounds >= MAX_FOLLOW_ROUNDS) return onCaughtUp({ ...state, followRounds }, at, applied);
  return { state: { ...state, applied, followRounds }, effects: [] };
}

/**
 * A completed checkpoint that ends A's job. `when-ready`: it must come after what B had applied
 * when it announced (an older one ended some earlier run, not the A that answers B). A fixed
 * target is checked by the shell's target watch (moves after failures included) before this event.
 */
function onStopCheckpoint(state: SuccessorState, id: number): SuccessorStep {
  if (!inPhase(state, 'announced')) return unexpected(state, 'stop-checkpoint');
  if (state.target === 'when-ready' && id <= (state.announcedAfter ?? 0)) return { state, effects: [] };
  return { state: moveSuccessor(state, 'taking-over', { takeoverFrom: id }), effects: [{ type: 'stage2', checkpointId: id }] };
}

/**
 * `when-ready`, announced: A's stop checkpoint is the next it triggers (after the one in flight,
 * if any), and B waits for nothing else. Applying a checkpoint before it is what made B late: the
 * stop checkpoint completed while B was still downloading and writing the one before. So B passes
 * over every checkpoint that is not the stop checkpoint: stage 2 applies all chunks of the stop
 * checkpoint's chains B has not applied (and reloads a range whose base changed meanwhile), and
 * takes operator state, offsets and channel state from the stop checkpoint itself. Two
 * exceptions, applied at once: a checkpoint with a new base (passed over, stage 2 would reload
 * that range from the base inside the downtime; applied now, usually just the delta stored with
 * the base), and the one after {@link MAX_PASSED_OVER} in a row (it brings every chain up to it).
 * A passed-over checkpoint's chunks are downloaded meanwhile (`prefetch`), not applied: stage 2
 * then fetches only the stop checkpoint's own. A follow runs while B goes on looking for the stop
 * checkpoint (B counts it as applied from the moment it asks; stage 2 waits for it to end).
 */
function onCheckpointSeen(state: SuccessorState, id: number, endsJob: boolean, newBase: boolean): SuccessorStep {
  if (!inPhase(state, 'announced') || state.target !== 'when-ready') return unexpected(state, 'checkpoint-seen');
  if (id <= (state.applied ?? 0)) return unexpected(state, 'checkpoint-seen');
  if (endsJob && id > (state.announcedAfter ?? 0)) return { state: moveSuccessor(state, 'taking-over', { takeoverFrom: id }), effects: [{ type: 'stage2', checkpointId: id }] };
  // Applied from now on (stage 2 waits for the follow): what B passes over next is counted after it.
  if (newBase || state.passedOver >= MAX_PASSED_OVER) return { state: { ...state, applied: id, passedOver: 0 }, effects: [{ type: 'follow', checkpointId: id }] };
  return { state: { ...state, passedOver: state.passedOver + 1 }, effects: [{ type: 'prefetch', checkpointId: id }] };
}

/** The lease is renewed while B waits and in probation; B that could not renew in time gives up itself. */
function onTick(state: SuccessorState, at: number): SuccessorStep {
  const expires = state.leaseExpiresAt;
  if (expires === undefined) return { state, effects: [] };
  if (expires <= at) return abort(state, `its lease expired ${at - expires} ms ago before it was renewed (the predecessor may have resumed)`);
  if (!renewDue(expires, state.leaseMs, at)) return { state, effects: [] };
  return { state, effects: [{ type: 'renew-lease', leaseExpiresAt: at + state.leaseMs }] };
}

function abort(state: SuccessorState, reason: string): SuccessorStep {
  if (state.phase === 'done' || state.phase === 'aborted') return { state, effects: [] };
  const next: SuccessorState = { ...state, phase: 'aborted' satisfies AbortFrom<typeof state.phase>, failure: reason };
  const effects: SuccessorEffect[] = [];
  if (state.leaseExpiresAt !== undefined) effects.push({ type: 'withdraw-request', reason: 'aborted' });
  effects.push({ type: 'fail', reason });
  return { state: next, effects };
}

/** An event the phase cannot take is a bug in the shell: the handover aborts loudly rather than guess. */
function unexpected(state: SuccessorState, event: SuccessorEvent['type']): SuccessorStep {
  return abort(state, `protocol error: event '${event}' in phase '${state.phase}'`);
}
