// The handover protocol, both sides, as pure transition functions (shells in src/handover/successor and predecessor).
export { leaseProblem, renewDue } from './lease.ts';
export { initialPredecessor, standbyNeedsListing, stepPredecessor } from './predecessor.ts';
export { stepHandover } from './step.ts';
export { initialSuccessor, MAX_FOLLOW_ROUNDS, MAX_PASSED_OVER, stepSuccessor } from './successor.ts';
export type { PredecessorMoves, SuccessorMoves } from './transitions.ts';
export type * from './types.ts';
export { checkpointPositions, type Coverage, type OffsetOrders, positionsCover, type PositionsRead } from './cut-positions.ts';
export { initialShadow, type ShadowMoves, stepShadow } from './shadow.ts';
export type * from './shadow-types.ts';
