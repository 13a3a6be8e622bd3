export { findGraphProblems } from './graph-problems.ts';
export { findMissingUids, type MissingUid } from './missing-uids.ts';
export { canChain, graphFingerprint, planChannels, planJob } from './plan.ts';
export { validateGraph } from './validate-graph.ts';
