// A handover in shadow mode: deployment B runs beside A, a promotion guard validates it, output switches at a cut.
export { askGuard, checkpointGuard, deploymentMetrics, type GuardReport, predecessorMetrics, readPredecessorMetrics, verdictAnswer } from './guard.ts';
export { ShadowMetricsRecorder } from './shadow-metrics.ts';
export { ShadowSuccessor } from './shadow-successor.ts';
export type { ShadowEventPhase, ShadowOptions } from './types.ts';
