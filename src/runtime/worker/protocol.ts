// Messages between the coordinator (main thread) and a worker thread.
import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from '../errors.ts';
import type { ChannelStats } from '../channels/types.ts';
import type { ExecutionPlan, GraphBuildConfig, OperatorMetrics, RuntimeTuning } from '../types.ts';

/** The piscina task a worker runs for the lifetime of the job. */
export interface WorkerPayload {
  readonly jobId: string;
  readonly moduleUrl: string;
  readonly workerIndex: number;
  readonly buildConfig: GraphBuildConfig;
  readonly plan: ExecutionPlan;
  readonly tuning: RuntimeTuning;
  readonly control: MessagePort;
  /** Ends of the cross-worker channels this worker produces into or consumes from. */
  readonly ports: ReadonlyArray<{ readonly channelId: number; readonly port: MessagePort }>;
  /** Milliseconds between progress reports. */
  readonly metricsIntervalMs: number;
}

export type CoordinatorCommand =
  | { readonly type: 'run-hooks' }
  | { readonly type: 'restore' }
  | { readonly type: 'start' }
  | { readonly type: 'cancel' };

export interface SubtaskMetricsReport {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly metrics: OperatorMetrics;
}

export type WorkerEvent =
  | { readonly type: 'ready'; readonly threadId: number }
  | { readonly type: 'hooks-done'; readonly hookMs: Readonly<Record<string, number>> }
  | { readonly type: 'restored' }
  | { readonly type: 'metrics'; readonly operators: readonly SubtaskMetricsReport[] }
  | { readonly type: 'failed'; readonly error: SerializedError };

export interface WorkerResult {
  readonly workerIndex: number;
  readonly outcome: 'finished' | 'failed' | 'canceled';
  /** Why the worker failed; also sent as a 'failed' event, but results and events travel on different ports. */
  readonly error?: SerializedError;
  readonly operators: readonly SubtaskMetricsReport[];
  readonly sinkResults: ReadonlyArray<{ readonly uid: string; readonly subtaskIndex: number; readonly value: unknown }>;
  readonly channels: readonly ChannelStats[];
}
