// baton: stream processing for Node.js with exactly-once checkpoints and blue/green handover.
// The public contract of DESIGN.md is listed here by name, so it is visible at a glance.

// Writing jobs
export {
  DataStream,
  DataStreamSink,
  defineJob,
  KeyedProcessFunction,
  KeyedStream,
  OutputTag,
  param,
  ProcessFunction,
  RichFilterFunction,
  RichFlatMapFunction,
  RichMapFunction,
  Sinks,
  Sources,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  WindowedStream,
} from './api/index.ts';
export type {
  AggregateFunction,
  AggregationFieldOf,
  Collector,
  Counter,
  JobSpec,
  MetricGroup,
  OperatorStateStore,
  ParamDeclaration,
  ParamDeclarations,
  ParamValues,
  ProcessContext,
  RichRuntimeContext,
  FileSinkOptions,
  FileSourceOptions,
  KeyedProcessContext,
  KeyedRuntimeContext,
  OnTimerContext,
  RuntimeContext,
  SequenceOptions,
  TimerService,
  TimestampAssigner,
  TimeWindow,
} from './api/index.ts';
export type { AggregatingState, KeyValue, ListState, MapState, ReducingState, ValueState } from './state/types.ts';
export type { StateOptions, StateTtlConfig, TtlUpdateType, TtlVisibility } from './state/ttl/ttl-config.ts';
export { StateTtlMismatchError } from './state/ttl/errors.ts';
// Windows (issue 14)
export {
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  ProcessWindowFunction,
  ReservedWindowStateNameError,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingProcessingTimeWindows,
  WindowStateUnsupportedError,
} from './api/index.ts';
export type { CountWindow, ProcessWindowContext, SessionGapExtractor, TimeWindowAssigner, Window, WindowResultFunction, WindowStateStore } from './api/index.ts';
// Two inputs and broadcast state
export {
  BroadcastConnectedStream,
  BroadcastProcessFunction,
  BroadcastStateDescriptor,
  BroadcastStream,
  CoProcessFunction,
  ConnectedStreams,
  IntervalJoin,
  IntervalJoined,
  IntervalJoinTimestampError,
  KeyedBroadcastConnectedStream,
  KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction,
  KeyedConnectedStreams,
  ProcessJoinFunction,
  ReadOnlyBroadcastStateError,
  UnknownBroadcastStateError,
} from './api/index.ts';
export type {
  BroadcastContext,
  BroadcastState,
  CoProcessContext,
  KeyedBroadcastOnTimerContext,
  KeyedReadOnlyBroadcastContext,
  ProcessJoinContext,
  ReadOnlyBroadcastContext,
  ReadOnlyBroadcastState,
} from './api/index.ts';

// Connectors (issue 15): Redis Streams in, PostgreSQL out; what a connector of one's own is written against.
export { RedisStreamsEventTimeError, RedisStreamsReadError } from './connectors/redis-streams/index.ts';
export type { RedisStreamEntry, RedisStreamSplit, RedisStreamsSourceOptions, RedisStreamsStart } from './connectors/redis-streams/index.ts';
export { PostgresPreparedTransactionsDisabledError, PostgresSinkError, PostgresUnavailableError } from './connectors/postgres/index.ts';
export type { PostgresConnection, PostgresSinkOptions, PostgresSinkState, PostgresSinkTimeouts } from './connectors/postgres/index.ts';
export { NO_TIMESTAMP } from './runtime/types.ts';
export type { SinkContext, SourceReaderContext } from './runtime/types.ts';
export type { StoredValueProblem } from './checkpoint/restore/stored-values.ts';
export { StateFlushError } from './state/lmdb/errors.ts';

// Running jobs
// Values come from their own modules, not from the runtime's index: every worker thread imports
// this file through its job module, and the index would load the coordinator (piscina, zod, the
// checkpoint driver) into each of them for nothing (~0.35 s of CPU per thread). `runJob` loads
// the coordinator when it is called.
export { JobHandle } from './runtime/coordinator/job-handle.ts';
export { JobStatus } from './runtime/lifecycle/job-status.ts';
export { runJob } from './handover/run-job.ts';
export { referenceData } from './runtime/reference-data.ts';
export type { ReferenceData } from './runtime/types.ts';
export type { JobParam, JobParamSpec } from './runtime/types.ts';
export type { HandoverMetrics, RollbackReport } from './runtime/coordinator/start-sequence.ts';
export type { HandoverEvent, PredecessorHandoverEvent, SuccessorHandoverEvent } from './runtime/coordinator/handover-event.ts';
export { HandoverAbortedError, HandoverTargetPassedError, HandoverTimeoutError, PromotionRefusedError, StaleHandoverTargetError } from './handover/errors.ts';
// Shadow mode (issue 17): the promotion guard's types and the cut's errors.
export type { DeploymentMetrics, PromotionGuard, PromotionGuardContext, PromotionVerdict, ShadowMetrics, ShadowSample } from './runtime/coordinator/start-sequence.ts';
export { ShadowCutFailedError } from './runtime/errors.ts';
export { CutPassedError } from './runtime/task/source-cut.ts';
export { ReferenceDataError } from './handover/reference-data/errors.ts';
export { ReferenceDataNotLoadedError } from './runtime/errors.ts';
export { readStopRequest, writeStopRequest } from './checkpoint/status/stop-request.ts';
export { removeStopRequestOf, writeLeasedStopRequest } from './checkpoint/status/lease-request.ts';
export type {
  ChannelStats,
  JobProgress,
  JobResult,
  OperatorSummary,
  PreStateHookContext,
  RunJobOptions,
  Sink,
  SinkWriter,
  Source,
  SourceReader,
  SourceSplit,
  StatusEvent,
} from './runtime/index.ts';
export type { CheckpointStats } from './runtime/coordinator/checkpoint-driver.ts';
// Async I/O (issue 14)
export type { AsyncFunctionContext, AsyncMapFunction, AsyncMapOptions } from './api/index.ts';
export { AsyncTimeoutError } from './runtime/errors.ts';

// Errors
export { JobParamError } from './api/index.ts';
// Every class has a stable static `code` (also on each instance): see the README's "Errors".
export {
  BatonError,
  BatonInternalError,
  CheckpointFailuresExceededError,
  CheckpointRequestError,
  ForeignError,
  InvalidProcessingTimeError,
  InvalidRestoredStateError,
  JobCanceledError,
  JobConfigError,
  JobModuleError,
  JobNotStartedError,
  MissingTimestampError,
  PreStateHookError,
  ProcessingTimeBackwardsError,
  registerErrors,
  UnsupportedRecordValueError,
  UserFunctionError,
  WorkerFailureError,
} from './runtime/errors.ts';
export type { BatonErrorClass } from './errors/index.ts';
export {
  CheckpointNotFoundError,
  CorruptCheckpointError,
  CorruptMetadataError,
  FencedError,
  HostileCheckpointError,
  InvalidStopRequestError,
  StateRestoreError,
} from './checkpoint/errors.ts';
export type { FenceReason } from './checkpoint/errors.ts';
export { RestorePlanError } from './checkpoint/restore/plan-restore.ts';
export { IllegalTransitionError } from './runtime/lifecycle/job-status.ts';
export { NoCurrentKeyError, StateBackendDisposedError, StateKindConflictError } from './state/errors.ts';
export { ChunkCorruptError } from './state/snapshot/errors.ts';
export { CliUsageError } from './cli/parse-params.ts';

// Checkpoints, readable from storage alone
export { checkpointStatus, findLatestRestorable, latestCompleted, listCheckpoints, readMetadata } from './checkpoint/status/checkpoint-status.ts';
export {
  InvalidStorageKeyError,
  openStorage,
  registerStorageScheme,
  StorageAttemptTimeoutError,
  StorageIoError,
  StorageNotFoundError,
  StorageShortBodyError,
  StorageTimeoutError,
} from './checkpoint/storage/index.ts';
export type { CheckpointStorage, S3StorageOptions, StorageTimeouts } from './checkpoint/storage/index.ts';
export type { CheckpointMetadata, CheckpointStatus } from './checkpoint/types.ts';
export type { JobWarningEvent } from './runtime/coordinator/job-handle.ts';

// Fail fast (issue 12): typed errors of wrong usage, and where a run's state came from.
export { NoCheckpointToRestoreError, NotAJobDirectoryError } from './checkpoint/errors.ts';
export { JobModuleNotFoundError, UnknownOptionError } from './runtime/errors.ts';
export type { RestoreEvent } from './runtime/coordinator/restore-event.ts';
export { jobDirectoryShape } from './checkpoint/status/job-directory.ts';
export type { JobDirectoryShape } from './checkpoint/status/job-directory.ts';
export { describeAbsentCheckpoint, explainAbsentCheckpoint } from './checkpoint/status/absent-checkpoint.ts';
export type { AbsentCheckpoint } from './checkpoint/status/absent-checkpoint.ts';
