// Handover of a running job to a new deployment. The target-checkpoint watcher, two-stage
// restore and gate land here (issue 5); pre-state-load hooks already run as a lifecycle phase
// of every job (src/runtime/lifecycle/pre-state-hooks.ts).
export type { PreStateHook, PreStateHookContext } from '../runtime/types.ts';
export { StaleHandoverTargetError } from './errors.ts';
export { checkNextOwner } from './next-owner.ts';
export * from './watcher/index.ts';
