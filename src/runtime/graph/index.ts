export { canChain, graphFingerprint, planChannels, planJob } from './plan.ts';
export { validateGraph } from './validate-graph.ts';
