// Deployment B's side of a handover: the shell over the pure protocol (injected into the runtime by runJob).
export { followStep, type FollowStep } from './follow-step.ts';
export { probeCheckpoint } from './probe.ts';
export { HandoverSuccessor } from './successor-shell.ts';
export type { SuccessorHandoverEvent } from '../../runtime/index.ts';
export type { HandoverOptions } from './types.ts';
