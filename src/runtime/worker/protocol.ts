// Messages between the coordinator (main thread) and a worker thread.
import type { MessagePort } from 'node:worker_threads';
import type { SerializedThrown } from '../errors.ts';
import type { ChannelStats } from '../channels/types.ts';
import type { ChannelStateRef, KeyGroupChain } from '../../checkpoint/index.ts';
import type { StorageTimeouts } from '../../checkpoint/storage/timeouts.ts';
import type { S3StorageOptions } from '../../checkpoint/storage/types.ts';
import type { ExecutionPlan, GraphBuildConfig, OperatorMetrics, RuntimeTuning } from '../types.ts';
import type { ShadowSample } from '../operators/shadow-output.ts';
import type { CutPositions, HeldSplit } from '../task/source-cut.ts';

/** Where and how a worker keeps state and writes checkpoint chunks. */
export interface WorkerStateConfig {
  readonly backend: 'lmdb' | 'heap';
  /** This worker's LMDB directory. */
  readonly stateDir: string;
  /** Checkpoint storage root URI and the job's directory under it; absent when checkpointing is off. */
  readonly checkpointStorage?: string;
  readonly s3?: S3StorageOptions;
  readonly storageTimeouts?: Partial<StorageTimeouts>;
}

/** What one operator subtask restores. */
export interface OperatorRestore {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly chains: readonly KeyGroupChain[];
  readonly states: readonly unknown[];
  readonly splits?: readonly unknown[];
}

export interface WorkerRestore {
  readonly checkpointId: number;
  readonly operators: readonly OperatorRestore[];
  /** Unaligned checkpoints: channel state files of this worker's subtasks. */
  readonly channelState: readonly ChannelStateRef[];
}

/** A subtask's part of checkpoint n, as acknowledged to the coordinator. */
export interface SubtaskAck {
  readonly taskId: number;
  readonly subtaskIndex: number;
  readonly operators: ReadonlyArray<{ readonly uid: string; readonly state: unknown; readonly keyed: readonly KeyGroupChain[] }>;
  readonly stateBytes: number;
  readonly syncMs: number;
  readonly asyncMs: number;
  /** Unaligned: where this subtask's in-flight data went (an exclusive file of the checkpoint). */
  readonly channelState?: ChannelStateRef;
  readonly channelStateBytes: number;
  /** When this subtask last processed a record before the barrier (epoch ms; 0: none yet). */
  readonly lastRecordAt?: number;
  /** Continuous spilling: bytes of in-flight input this subtask wrote since its previous checkpoint. */
  readonly spilledBytes: number;
  /** Whether the subtask took the checkpoint unaligned, and how long it aligned barriers before. */
  readonly unaligned: boolean;
  readonly alignmentMs: number;
}

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
  readonly state: WorkerStateConfig;
  /**
   * Checkpointing is on: a subtask whose input ended keeps its final state and staged output
   * until the job's final checkpoint completes, instead of committing it at once.
   */
  readonly awaitFinalCheckpoint: boolean;
  /** Shadow mode (a handover's deployment B before its cut): sinks write to their shadow side, sampling `sampleSize` records each. */
  readonly shadow?: { readonly sampleSize: number };
}

export type CoordinatorCommand =
  | { readonly type: 'run-hooks' }
  /** Stage 2 of a handover (`incremental`): keyed state applies only what following did not. */
  | { readonly type: 'restore'; readonly restore?: WorkerRestore; readonly incremental?: boolean }
  /** Handover stage 1 and following: bring keyed state to this checkpoint's (nothing else). */
  | { readonly type: 'follow'; readonly restore: WorkerRestore }
  /** Handover, waiting for the stop checkpoint: download (not apply) the chunks of this checkpoint that following has not applied, for stage 2. No answer. */
  | { readonly type: 'prefetch'; readonly restore: WorkerRestore }
  /** Answer to a 'reference-data-request'. */
  | { readonly type: 'reference-data'; readonly requestId: number; readonly buffer?: SharedArrayBuffer; readonly error?: SerializedThrown }
  | { readonly type: 'start' }
  | { readonly type: 'cancel' }
  /** `at`: when the checkpoint was triggered (Date.now() on the main thread, the clock every worker thread shares). */
  | { readonly type: 'trigger-checkpoint'; readonly id: number; readonly at: number; readonly stop?: 'after' | 'suspend' | 'terminate'; readonly cut?: CutPositions }
  /** `final`: the job's final checkpoint (all input ended) completed: after committing, every subtask finishes. */
  | { readonly type: 'checkpoint-complete'; readonly id: number; readonly final?: boolean }
  | { readonly type: 'checkpoint-aborted'; readonly id: number }
  /** End after a stop-with-checkpoint completed: subtasks close without draining. */
  | { readonly type: 'stop' }
  /** Go on after stop-after checkpoint `id` (a handover rolled back): sources continue after its barrier; the next record is reported as a first record again. */
  | { readonly type: 'resume'; readonly id: number }
  /** Shadow mode: every source subtask holds between two polls and reports where it stands ('sources-held'). */
  | { readonly type: 'hold-sources' }
  | { readonly type: 'release-sources' }
  /** Shadow mode: each sink's sample ('shadow-sample'); `flush`: shadow destinations made visible first. */
  | { readonly type: 'shadow-sample'; readonly requestId: number; readonly flush: boolean }
  /**
   * Shadow mode, promotion: sinks create their live writers and recover the running job's sink
   * states of its stop checkpoint (`states` per sink uid, every old subtask's); output turns live at
   * the barrier of checkpoint `cutId`. The next record is reported as a first record again.
   */
  | { readonly type: 'prepare-cut'; readonly cutId: number; readonly states: Readonly<Record<string, readonly unknown[]>> };

export interface SubtaskMetricsReport {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly metrics: OperatorMetrics;
  /** Ms the subtask (its whole chain) was back-pressured since it started: output writers without credit. */
  readonly backpressuredMs?: number;
}

export type WorkerEvent =
  | { readonly type: 'ready'; readonly threadId: number }
  | { readonly type: 'hooks-done'; readonly hookMs: Readonly<Record<string, number>> }
  /** `applied`: what an incremental restore (handover stage 2) still had to download. */
  | { readonly type: 'restored'; readonly applied?: { readonly chunks: number; readonly bytes: number; readonly reloads: number } }
  /**
   * `missing`: a shared chunk of the checkpoint was gone (discarded meanwhile, or damage: the
   * coordinator tells which). What this worker applied before stays applied, chain by chain.
   */
  | { readonly type: 'followed'; readonly checkpointId: number; readonly chunks: number; readonly bytes: number; readonly reloads: number; readonly missing?: string }
  /** The first record this worker processed after the start signal. */
  | { readonly type: 'first-record'; readonly at: number }
  /** A pre-state-load hook asked for reference data: the coordinator loads it once for all workers. */
  | { readonly type: 'reference-data-request'; readonly requestId: number; readonly uri: string }
  | { readonly type: 'metrics'; readonly operators: readonly SubtaskMetricsReport[] }
  | { readonly type: 'failed'; readonly error: SerializedThrown }
  | { readonly type: 'checkpoint-ack'; readonly id: number; readonly task: string; readonly ack: SubtaskAck }
  | { readonly type: 'checkpoint-decline'; readonly id: number; readonly task: string; readonly reason: string }
  /** A source subtask (`task/subtask`) read all its input; once every one has, the job takes its final checkpoint. */
  | { readonly type: 'source-finished'; readonly task: string }
  /** A source subtask (`task/subtask`) of source `uid` holds (after 'hold-sources'): where each of its splits stands. */
  | { readonly type: 'sources-held'; readonly task: string; readonly uid: string; readonly splits: readonly HeldSplit[] }
  | { readonly type: 'shadow-sample'; readonly requestId: number; readonly sinks: readonly ShadowSample[] }
  | { readonly type: 'cut-prepared' };

export interface WorkerResult {
  readonly workerIndex: number;
  readonly outcome: 'finished' | 'failed' | 'canceled';
  /** Why the worker failed; also sent as a 'failed' event, but results and events travel on different ports. */
  readonly error?: SerializedThrown;
  readonly operators: readonly SubtaskMetricsReport[];
  readonly sinkResults: ReadonlyArray<{ readonly uid: string; readonly subtaskIndex: number; readonly value: unknown }>;
  readonly channels: readonly ChannelStats[];
}
