// Handover of a running job to a new deployment: the protocol (both sides, pure), deployment B's
// shell (successor), deployment A's shell (predecessor: stop requests, standby, rollback), the
// target watcher and reference data. Pre-state-load hooks run as a lifecycle phase of every job
// (src/runtime/lifecycle/pre-state-hooks.ts).
export type { PreStateHook, PreStateHookContext } from '../runtime/types.ts';
export { HandoverAbortedError, PromotionRefusedError, StaleHandoverTargetError } from './errors.ts';
export { checkNextOwner } from './next-owner.ts';
export { handoverExtensions, runJob } from './run-job.ts';
export * from './predecessor/index.ts';
export * from './protocol/index.ts';
export * from './shadow/index.ts';
export * from './successor/index.ts';
export * from './watcher/index.ts';
