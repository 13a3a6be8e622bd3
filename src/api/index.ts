// The DataStream API: what job modules import.
export { DataStream, DataStreamSink } from './data-stream.ts';
export { defineJob } from './define-job.ts';
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
export type { AsyncFunctionContext, AsyncMapFunction, AsyncMapOptions } from '../runtime/operators/async-wait.ts';
