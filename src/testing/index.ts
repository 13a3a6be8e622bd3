// baton/testing: run users' jobs and their upgrades inside a test, in the calling thread.
export { TestDriverStateError, UnknownTestTargetError } from './errors.ts';
export type { SinkRecord } from './sink-log.ts';
export { TestCheckpoint, TestDriver, TestInput, type TestJobOptions, TestOutput, testJob } from './test-job.ts';
export { type AggregateFunctionSource, type HarnessElement, type HarnessOptions, HarnessSnapshot, harness, KeyedHarness, type ProcessFunctionSource, ReduceHarness, WindowHarness } from './harness.ts';
export { shapeOf, type StoredStateSummary } from './checkpoint-states.ts';
export { assertContinuous, type OperatorChange, type PredecessorStep, type StateChange, type StateCompatibility, type UpgradeHandover, UpgradeNotContinuousError, type UpgradeOutput, type UpgradeReport } from './upgrade-report.ts';
export { type UpgradeInput, type UpgradeInputEntry, type UpgradeTestOptions, type UpgradeVersion, upgradeTest } from './upgrade-test.ts';
