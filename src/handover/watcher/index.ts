// The target-checkpoint watcher of a handover: a pure state machine and the shell that polls storage for it.
export { detectCheckpointFormat } from './checkpoint-format.ts';
export { DEFAULT_WATCH_POLL_MS, watchForCheckpoint } from './checkpoint-watcher.ts';
export { checkTargetNotStale, initialTargetWatch, newestCompletedOf, stepTargetWatch } from './target-watch.ts';
export type * from './types.ts';
