// The runtime's public face: running jobs and what they report.
export type { CheckpointStats, TaskCheckpointStats } from './coordinator/checkpoint-driver.ts';
export type { StorageSweepEvent } from './coordinator/checkpoint-persistence.ts';
export { JobHandle, type JobProgress, type JobWarningEvent, type OperatorProgress, type RestoreFallbackEvent } from './coordinator/job-handle.ts';
export type { RestoreEvent } from './coordinator/restore-event.ts';
export type { JobResult, OperatorSummary, SkippedCheckpointReport } from './coordinator/job-result.ts';
export type { StorageProblemEvent } from './coordinator/storage-problem-reporter.ts';
export { runJob } from './coordinator/job-runner.ts';
export type { RunJobOptions } from './coordinator/run-options.ts';
export type { HandoverMetrics, ReferenceDataProgressEvent } from './coordinator/start-sequence.ts';
// A shadow deployment (handover mode 'shadow'): what the runtime offers its start sequence, and the promotion guard.
export type {
  AttemptRestoreControl,
  CutPositions,
  DeploymentMetrics,
  HeldPositions,
  HeldSplit,
  PromotionGuard,
  PromotionGuardContext,
  PromotionVerdict,
  ShadowControl,
  ShadowCut,
  ShadowMetrics,
  ShadowSample,
  StartSequence,
} from './coordinator/start-sequence.ts';
export type { HandoverEvent, PredecessorHandoverEvent, SuccessorHandoverEvent } from './coordinator/handover-event.ts';
export type { ChannelStats } from './channels/types.ts';
export * from './errors.ts';
export { JobStatus, type StatusEvent } from './lifecycle/job-status.ts';
export type { PreStateHookContext, Sink, SinkWriter, Source, SourceReader, SourceSplit } from './types.ts';
