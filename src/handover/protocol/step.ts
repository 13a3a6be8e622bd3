// The handover as one transition function: either side's state, an event for that side, the next state and effects.
import { stepPredecessor } from './predecessor.ts';
import { stepSuccessor } from './successor.ts';
import type { HandoverProtocolState, PredecessorEffect, PredecessorEvent, PredecessorState, Step, SuccessorEffect, SuccessorEvent, SuccessorState } from './types.ts';

/**
 * Advances one side of a handover by one event. Pure: no I/O, no clock (events carry `at`).
 *
 * @example
 * ```ts
 * let b = initialSuccessor({ runId, target: 'when-ready', leaseMs: 5_000, at: 0 }).state;
 * const { state, effects } = stepHandover(b, { type: 'stage1-done', at: 10, applied: 3 });
 * ```
 */
export function stepHandover(state: SuccessorState, event: SuccessorEvent): Step<SuccessorState, SuccessorEffect>;
export function stepHandover(state: PredecessorState, event: PredecessorEvent): Step<PredecessorState, PredecessorEffect>;
export function stepHandover(state: HandoverProtocolState, event: SuccessorEvent | PredecessorEvent): Step<HandoverProtocolState, SuccessorEffect | PredecessorEffect> {
  return state.side === 'successor' ? stepSuccessor(state, event as SuccessorEvent) : stepPredecessor(state, event as PredecessorEvent);
}
