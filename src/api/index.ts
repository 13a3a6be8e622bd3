// The DataStream API: what job modules import.
export { DataStream, DataStreamSink } from './data-stream.ts';
export { defineJob, type JobSpec } from './define-job.ts';
export { describeParams, JobParamError, param, type ParamDeclaration, type ParamDeclarations, type ParamValues } from './job-params.ts';
export { ProcessFunction, RichFilterFunction, RichFlatMapFunction, RichMapFunction } from './rich-functions.ts';
export type { AggregationFieldOf } from './keyed-stream.ts';
export { StreamExecutionEnvironment } from './environment.ts';
export * from './functions.ts';
export { KeyedStream } from './keyed-stream.ts';
export { OutputTag } from '../runtime/operators/output-tag.ts';
export { Sinks } from './sinks/index.ts';
export type { FileSinkOptions } from './sinks/index.ts';
export { Sources } from './sources/index.ts';
export type { FileSourceOptions, SequenceOptions } from './sources/index.ts';
export { WatermarkStrategy } from './watermark-strategy.ts';
export type { TimestampAssigner } from './watermark-strategy.ts';
export { WindowedStream } from './windowed-stream.ts';
export { TumblingEventTimeWindows } from './windows.ts';
export {
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingProcessingTimeWindows,
} from './windows.ts';
export type { SessionGapExtractor, TimeWindowAssigner } from './windows.ts';
export { ProcessWindowFunction } from './window-functions.ts';
export type { CountWindow, ProcessWindowContext, Window, WindowResultFunction, WindowStateStore } from './window-functions.ts';
export { ReservedWindowStateNameError, WindowStateUnsupportedError } from '../runtime/operators/window/window-state.ts';
export { BroadcastConnectedStream, BroadcastStream, KeyedBroadcastConnectedStream } from './broadcast-stream.ts';
export { ConnectedStreams, KeyedConnectedStreams } from './connected-streams.ts';
export { IntervalJoin, IntervalJoined } from './interval-join.ts';
export * from './two-input-functions.ts';
export { BroadcastStateDescriptor } from '../runtime/operators/broadcast-state.ts';
export { IntervalJoinTimestampError, ReadOnlyBroadcastStateError, UnknownBroadcastStateError } from '../runtime/operators/two-input-errors.ts';
export type { AsyncFunctionContext, AsyncMapFunction, AsyncMapOptions } from '../runtime/operators/async-wait.ts';
