// Ownership of a job directory: run ids in storage and the fence's evidence.
export { committedByOthers, completedByOthers } from './fence.ts';
export { isValidRunId, RUN_ID_RULE } from './run-id.ts';
