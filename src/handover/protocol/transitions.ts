// Which phase may follow which, as a type: a transition the table does not list does not compile
// (in the style of Arroyo's controller states, where each state's `next` can only name its successors).
import type { PredecessorPhase, PredecessorState, SuccessorPhase, SuccessorState } from './types.ts';

/** The successor's legal moves. Every phase can abort except the ends; nothing leaves `done` or `aborted`. */
export interface SuccessorMoves {
  preparing: 'following' | 'announced' | 'aborted';
  following: 'announced' | 'taking-over' | 'aborted';
  announced: 'taking-over' | 'aborted';
  'taking-over': 'probation' | 'aborted';
  probation: 'done' | 'aborted';
  done: never;
  aborted: never;
}

/** The predecessor's legal moves: standby either ends the job or goes back to running (the rollback). */
export interface PredecessorMoves {
  running: 'stopping';
  stopping: 'running' | 'standby' | 'ended';
  standby: 'running' | 'ended';
  ended: never;
}

// Both tables must name every phase (and nothing else): a phase added to a union without its moves fails here.
type Exactly<T, U> = [T] extends [U] ? ([U] extends [T] ? true : never) : never;
const successorTableComplete: Exactly<keyof SuccessorMoves, SuccessorPhase> = true;
const predecessorTableComplete: Exactly<keyof PredecessorMoves, PredecessorPhase> = true;
void successorTableComplete;
void predecessorTableComplete;

/**
 * Moves a successor from phase `F` to `T`; `T` must be listed for `F` in SuccessorMoves.
 *
 * @example const next = moveSuccessor<'announced', 'taking-over'>(state, 'taking-over', { takeoverFrom: 9 });
 */
export function moveSuccessor<F extends SuccessorPhase, T extends SuccessorMoves[F]>(
  state: SuccessorState & { readonly phase: F },
  to: T,
  changes: Partial<Omit<SuccessorState, 'side' | 'phase'>> = {},
): SuccessorState {
  return { ...state, ...changes, phase: to };
}

/** Moves a predecessor from phase `F` to `T`; `T` must be listed for `F` in PredecessorMoves. @example movePredecessor(s, 'standby', { stopAt: 9 }) */
export function movePredecessor<F extends PredecessorPhase, T extends PredecessorMoves[F]>(
  state: PredecessorState & { readonly phase: F },
  to: T,
  changes: Partial<Omit<PredecessorState, 'side' | 'phase'>> = {},
): PredecessorState {
  return { ...state, ...changes, phase: to };
}

/** Narrows a state to one phase, so the move helpers can check the phase it leaves. */
export function inPhase<P extends SuccessorPhase>(state: SuccessorState, phase: P): state is SuccessorState & { readonly phase: P };
export function inPhase<P extends PredecessorPhase>(state: PredecessorState, phase: P): state is PredecessorState & { readonly phase: P };
export function inPhase(state: SuccessorState | PredecessorState, phase: string): boolean {
  return state.phase === phase;
}
