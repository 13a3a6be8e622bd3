// Shared types of the runtime: the job graph users build, the sources/sinks/operators it runs,
// and the execution plan the coordinator derives from it.
import type { StoredValueProblem } from '../checkpoint/restore/stored-values.ts';
import type { KeyValue } from '../state/index.ts';
import type { KeyedStateBackend } from '../state/index.ts';

/** Event time in milliseconds. Records without one carry {@link NO_TIMESTAMP}. */
export const NO_TIMESTAMP = Number.NEGATIVE_INFINITY;
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;

export type KeySelector<T> = (value: T) => KeyValue;

/** Where a chained operator hands its output: the next operator, or the task's channels. */
export interface Output {
  collect(value: unknown, timestamp: number): void;
  emitWatermark(watermark: number): void;
  /** A record for the side output `tag` (dropped when nothing consumes that side output). */
  side?(tag: string, value: unknown, timestamp: number): void;
}

/** What an operator instance knows about where it runs. */
export interface OperatorContext {
  readonly uid: string;
  readonly name: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly workerIndex: number;
  /** The job's id (runJob's `jobId`): the same in every thread, attempt and deployment of the job. */
  readonly jobId?: string;
  /** Keyed state of this operator, present when its input is keyed. */
  readonly keyedState?: KeyedStateBackend;
  /**
   * Processing time now (epoch ms on the wall clock; under a manual clock, the test's time). Every
   * processing-time decision of an operator reads this, never Date.now(), so a test can drive it.
   */
  currentProcessingTime(): number;
  /**
   * Processing-time timers: `fire` runs in this thread once processing time reaches `atMs`, while the
   * subtask runs (not after it ended or failed). Returns a cancel function.
   */
  scheduleProcessingTime(atMs: number, fire: () => void): () => void;
  /** Reports a failure from an asynchronous callback (e.g. a processing-time timer). */
  fail(error: unknown): void;
  /**
   * This operator's counters in its subtask's metrics reports: an operator may add its own (e.g.
   * `lateRecordsDropped`), which then reach the job result and the metrics. Absent in unit tests.
   */
  readonly metrics?: OperatorMetrics;
  /**
   * Stops the subtask taking input (between two records; a source between two polls) until
   * `resumeInput`: asyncMap at capacity. Checkpoint barriers still reach the chain (see
   * Subtask.holdInput). Optional only so that hand-made contexts of unit tests need not have it.
   */
  pauseInput?(): void;
  resumeInput?(): void;
  /**
   * Runs `action` on the subtask from an asynchronous callback (a promise's completion): a throw
   * fails the subtask, what it emitted is flushed, and nothing runs once the subtask stopped.
   */
  runOnTask?(action: () => void): void;
  /**
   * Set when the job runs in shadow mode (a handover's deployment B before its cut): sinks write
   * to their shadow destination and keep a sample of what they wrote, `sampleSize` records each.
   */
  readonly shadow?: { readonly sampleSize: number };
}

/** A running operator of a chain. All record-path methods are synchronous. */
export interface StreamOperator {
  open(output: Output): void | Promise<void>;
  processElement(value: unknown, timestamp: number): void;
  /** Two-input operators (connect, joins): a record of the second input; `processElement` gets the first's. */
  processElement2?(value: unknown, timestamp: number): void;
  processWatermark(watermark: number): void;
  /** Called after each input batch (or source chunk): a cheap place for periodic work. */
  endOfBatch(): void;
  /**
   * All input has ended; emit what is left. A promise (asyncMap: its requests in flight) holds the
   * end of input until it settles; timers and `runOnTask` actions keep running meanwhile.
   */
  endInput(): void | Promise<void>;
  /**
   * The subtask ends normally, after `endInput`: its output is covered by the job's final
   * checkpoint (or checkpointing is off). Sinks make the rest visible here. Not called on a
   * failure, cancel or suspend, where only `close` runs.
   */
  finish?(): void | Promise<void>;
  /** Releases resources; the result (if any) is returned with the job's result. */
  close(): unknown | Promise<unknown>;
  /**
   * Small non-keyed state for checkpoint n, taken synchronously at the barrier (a promise of it is
   * awaited before the checkpoint is acknowledged: see SinkWriter.prepareCommit).
   */
  snapshotState?(checkpointId: number): unknown;
  /**
   * Restores what `snapshotState` returned, from every subtask of the snapshot (so a rescaled
   * operator can pick what belongs to its key groups). Called before `open`.
   */
  initializeState?(states: readonly unknown[]): void | Promise<void>;
  /** Checkpoint n is complete everywhere: commit what was staged for it. */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /** The job is being suspended: close without emitting or committing anything more. */
  suspend?(): void | Promise<void>;
  /**
   * False while the operator has work under way outside the record path (asyncMap requests in
   * flight): an in-thread test run's steps wait for it. Absent: always idle.
   */
  isIdle?(): boolean;
}

export interface OperatorFactory {
  create(ctx: OperatorContext): StreamOperator;
}

/** One split of a source's input and where reading it has got to. */
export interface SourceSplit {
  readonly id: string;
  /** Offset to resume from: format owned by the source (a number for sequences, a byte position for files). */
  readonly offset: unknown;
  readonly end?: unknown;
}

export interface SourceReaderContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly uid: string;
}

/**
 * Reads one split. `poll` emits up to `max` records and returns how many it emitted, or a
 * promise when it has to wait (rate limit, I/O). `finished` turns true once the split is exhausted.
 */
export interface SourceReader<T> {
  /**
   * `emitWatermark`: for readers that know event-time progress themselves (a test input, a log
   * read in time order): no record with a timestamp at or below it follows from this reader.
   * Most jobs assign watermarks downstream (assignTimestampsAndWatermarks), which replaces these.
   */
  poll(max: number, emit: (value: T, timestamp: number) => void, emitWatermark?: (watermark: number) => void): number | Promise<number>;
  readonly finished: boolean;
  /** Current position, so a checkpoint can resume here. */
  currentSplit(): SourceSplit;
  close(): void;
  /**
   * The task needs its thread back while a poll waits (a checkpoint trigger, a stop): resolve the
   * pending poll now with what it emitted so far (usually 0); the task polls again afterwards.
   * Readers whose waits are short anyway (a rate limit) need not implement it.
   */
  wakeUp?(): void;
}

export interface Source<T> {
  readonly kind: string;
  /** Parallelism forced by the source (e.g. 1 for fromElements), else the operator's. */
  readonly maxSourceParallelism?: number;
  /** Checks options before anything starts; throws a JobConfigError naming the bad one. */
  validate(): void;
  /** Deterministic: every thread computes the same splits. */
  createSplits(parallelism: number): SourceSplit[];
  createReader(split: SourceSplit, ctx: SourceReaderContext): SourceReader<T>;
  /**
   * Checks a split read back from a checkpoint before any reader is created: storage is hostile
   * input, so e.g. a file source accepts only the paths its job configured. Returns the problem
   * (the restore then fails naming the checkpoint and field), or undefined.
   */
  checkRestoredSplit?(split: unknown): StoredValueProblem | undefined;
  /**
   * Orders two offsets of one split (negative: `a` comes before `b`, 0: the same position,
   * positive: after; it may throw for offsets that cannot be ordered, e.g. a "newest" marker). A
   * source that has it can be cut at another deployment's positions: a handover in shadow mode
   * reads each split exactly up to the running job's position before it switches its output.
   *
   * @example compareOffsets: (a, b) => (a as number) - (b as number)
   */
  compareOffsets?(a: unknown, b: unknown): number;
}

export interface SinkContext {
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /**
   * The job's id, the same in every attempt and deployment (A and B of a handover) of the job: a
   * transactional sink derives ids of its external transactions from it, to find its own on recover.
   */
  readonly jobId?: string;
  /** Fails the job from an asynchronous callback (a write to an external system that failed after `write` returned). */
  fail?(error: unknown): void;
}

export interface SinkWriter<T> {
  write(value: T, timestamp: number): void;
  /**
   * The subtask ends normally: make the output visible. With checkpointing on this comes after
   * the job's final checkpoint completed, whose `prepareCommit` staged the tail and whose
   * `commit` published it, so nothing is left; with checkpointing off it publishes the tail.
   */
  finish(): void | Promise<void>;
  /** Releases resources without committing (failure or cancel). */
  abort(): void | Promise<void>;
  /** Value returned in the job's result under the sink's uid (e.g. collected records). */
  result?(): unknown;
  /**
   * Transactional sinks: stage everything written so far under checkpoint n; returns the state to
   * save. It may return a promise (an external system's pre-commit, e.g. PREPARE TRANSACTION): the
   * subtask acknowledges checkpoint n only once it resolved, and records keep flowing meanwhile; a
   * rejection declines the checkpoint.
   */
  prepareCommit?(checkpointId: number): unknown;
  /** Makes visible what was staged for checkpoints up to n. */
  commit?(checkpointId: number): void | Promise<void>;
  /** After a restore: commit what the restored checkpoint staged (from every old subtask), discard the rest. */
  recover?(states: readonly unknown[]): void | Promise<void>;
}

export interface Sink<T> {
  readonly kind: string;
  validate(): void;
  createWriter(ctx: SinkContext): SinkWriter<T>;
  /**
   * Checks one subtask's state read back from a checkpoint (what prepareCommit returned) before
   * any writer recovers it: storage is hostile input, so e.g. a file sink accepts only part files
   * it could have written. Returns the problem (the restore then fails naming the checkpoint and
   * field), or undefined.
   */
  checkRestoredState?(state: unknown): StoredValueProblem | undefined;
}

// ---- the job graph (built identically in every thread) ----

/**
 * How records of an edge reach the consumer's subtasks: `forward` (subtask i to i), `rebalance`
 * (round robin), `hash` (by key group), `broadcast` (every record to every subtask), `shuffle`
 * (pseudo-random, seeded per producer subtask: the same run gives the same spread), `global`
 * (everything to subtask 0).
 */
export type Partitioning = 'forward' | 'rebalance' | 'hash' | 'broadcast' | 'shuffle' | 'global';

export interface GraphInput {
  readonly nodeId: number;
  readonly partitioning: Partitioning;
  readonly keySelector?: KeySelector<unknown>;
  /** Reads the producer's side output with this tag id (see OutputTag), not its main output. */
  readonly sideOutput?: string;
  /**
   * Feeds the second input of a two-input operator (connect, interval join, broadcast state): its
   * records go to `processElement2`. Unset on every input of a one-input node, where several inputs
   * (a union) all feed `processElement`; a two-input node's first input may be a union too.
   */
  readonly second?: true;
}

export type NodeKind = 'source' | 'operator' | 'sink';

export interface GraphNode {
  readonly id: number;
  readonly kind: NodeKind;
  /** Short operator type, e.g. `map`, `process`, `window`. */
  readonly type: string;
  name: string;
  uid: string;
  uidExplicit: boolean;
  parallelism: number;
  parallelismExplicit: boolean;
  readonly inputs: readonly GraphInput[];
  /** Keyed operators get a state backend and timers. */
  readonly keyed: boolean;
  readonly source?: Source<unknown>;
  readonly operator?: OperatorFactory;
  readonly sink?: Sink<unknown>;
  /**
   * Sinks only: where the sink writes while its job runs in shadow mode (a handover's deployment B
   * before its cut), set with `DataStreamSink.shadowTo`; absent: shadow output is only sampled.
   */
  shadowSink?: Sink<unknown>;
}

export interface JobGraph {
  readonly nodes: readonly GraphNode[];
  readonly maxParallelism: number;
  readonly hooks: readonly PreStateHook[];
  readonly config: JobConfig;
}

/** Settings a job makes on its environment (the same in every thread). */
export interface JobConfig {
  readonly autoWatermarkIntervalMs: number;
  /** Recorded by `enableCheckpointing`; checkpoints themselves are not implemented yet. */
  readonly checkpointing?: CheckpointingConfig;
}

export interface CheckpointingConfig {
  readonly intervalMs: number;
  readonly mode: 'aligned' | 'unaligned';
  /** Aligned mode: a task whose alignment lasts longer than this takes the checkpoint unaligned. */
  readonly alignedTimeoutMs?: number;
  /** A checkpoint not completed in this time is aborted. Default 60 s. */
  readonly timeoutMs: number;
  /** Least time between the end of one checkpoint and the start of the next. Default 0. */
  readonly minPauseMs: number;
  /** Consecutive failed checkpoints tolerated before the job fails. Default 0. */
  readonly tolerableFailures: number;
  /** Completed checkpoints kept in storage. Default 3. */
  readonly retain: number;
  /** When an incremental chain gets a new base: after `maxDeltas` deltas, or once its deltas outgrow `maxDeltaBytesRatio` × the base. */
  readonly materialization: { readonly maxDeltas: number; readonly maxDeltaBytesRatio: number };
  /** Unaligned mode with `spill: 'continuous'`: in-flight input is written as it arrives, in segments. */
  readonly continuousSpill?: { readonly segmentBytes: number; readonly flushMs: number };
}

/** Runtime tuning that does not change the graph (sent to workers with the plan). */
export interface RuntimeTuning {
  /** Records per channel batch. */
  readonly batchSize: number;
  /** Batches a channel may have in flight before its producer waits. */
  readonly channelCredits: number;
}

export interface PreStateHookContext {
  readonly workerIndex: number;
  readonly workers: number;
  readonly jobId: string;
  /**
   * Loads a `file://` or `s3://` object once for the whole job into a SharedArrayBuffer that every
   * worker thread shares (one copy in memory); progress goes to the job handle's
   * 'reference-data' events. User functions read it with `referenceData(uri)`.
   *
   * @example
   * env.onBeforeStateLoad('prices', async (ctx) => { await ctx.loadReferenceData('s3://ref/prices.bin'); });
   */
  loadReferenceData(uri: string): Promise<ReferenceData>;
}

/** Reference data loaded by a pre-state-load hook: the same SharedArrayBuffer in every worker. */
export interface ReferenceData {
  readonly uri: string;
  readonly buffer: SharedArrayBuffer;
  readonly bytes: number;
}

export interface PreStateHook {
  readonly name: string;
  readonly run: (ctx: PreStateHookContext) => void | Promise<void>;
}

/** What runJob passes to a job definition so every thread builds the same graph. */
export interface GraphBuildConfig {
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Job parameters from runJob's `params` (or `baton run --param k=v`). */
  readonly params: Readonly<Record<string, JobParam>>;
  /**
   * Set by a runner, not the job: baton/testing emits an assigner's watermarks after every batch
   * (`autoWatermarkIntervalMs: 0`), so a test's watermarks follow what it pushed, whatever the job says.
   */
  readonly overrides?: { readonly autoWatermarkIntervalMs?: number };
}

export type JobParam = string | number | boolean;

/** A job parameter declared with `defineJob({ params })`, as `baton check` and the CLI describe it. */
export interface JobParamSpec {
  readonly type: 'string' | 'number' | 'boolean';
  readonly required: boolean;
  readonly default?: JobParam;
  readonly description?: string;
  /** Strings: the values allowed. */
  readonly choices?: readonly string[];
  /** Numbers: bounds (inclusive) and whether only integers are allowed. */
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

const JOB_DEFINITION = Symbol.for('baton.JobDefinition');

/** The default export of a job module. Created by `defineJob`. */
export interface JobDefinition {
  readonly [JOB_DEFINITION]: true;
  buildGraph(config: GraphBuildConfig): JobGraph;
  /** The parameters the job declares (`defineJob({ params }, ...)`); undefined for an undeclared `env.params` bag. */
  readonly params?: Readonly<Record<string, JobParamSpec>>;
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_DEFINITION] === true;
}

export function markJobDefinition(build: (config: GraphBuildConfig) => JobGraph, params?: Readonly<Record<string, JobParamSpec>>): JobDefinition {
  return { [JOB_DEFINITION]: true, buildGraph: build, ...(params ? { params } : {}) };
}

// ---- the execution plan (plain data, sent to every worker) ----

export interface PlannedOperator {
  readonly nodeId: number;
  readonly uid: string;
  readonly name: string;
  readonly type: string;
}

/** One chain of operators; runs as `parallelism` subtasks, subtask i on worker i. */
export interface PlannedTask {
  readonly id: number;
  readonly name: string;
  readonly parallelism: number;
  readonly operators: readonly PlannedOperator[];
  readonly isSource: boolean;
  readonly keyed: boolean;
  readonly inputs: readonly PlannedEdge[];
  readonly outputs: readonly PlannedEdge[];
}

/** Data flowing from the tail of task `from` to the head of task `to`. */
export interface PlannedEdge {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  /** Node whose key selector partitions a hash edge (the consumer head). */
  readonly partitioning: Partitioning;
  readonly keyNodeId?: number;
  readonly inputIndex: number;
  /** The node whose output this edge carries (the producer chain's tail, or any member for a side output). */
  readonly fromNodeId: number;
  /** A side output's tag id: the edge carries that side output of `fromNodeId`, not its main output. */
  readonly sideOutput?: string;
}

/** A channel between subtask `fromSubtask` of an edge's producer and `toSubtask` of its consumer. */
export interface PlannedChannel {
  readonly id: number;
  readonly edgeId: number;
  readonly fromTask: number;
  readonly fromSubtask: number;
  readonly toTask: number;
  readonly toSubtask: number;
  /** Index of this channel among the consumer subtask's input channels. */
  readonly inputChannelIndex: number;
  /** Index among the producer subtask's output channels of this edge. */
  readonly outputChannelIndex: number;
}

export interface ExecutionPlan {
  readonly tasks: readonly PlannedTask[];
  readonly channels: readonly PlannedChannel[];
  readonly workers: number;
  readonly maxParallelism: number;
  /** A digest of the graph's shape; workers refuse to run a graph that differs. */
  readonly fingerprint: string;
}

export interface OperatorMetrics {
  recordsIn: number;
  recordsOut: number;
  /** Counters user functions registered (`ctx.metrics.counter(name)`), by name. */
  counters?: Record<string, number>;
  /** Window operators: late records dropped (beyond the allowed lateness, no late side output). Absent elsewhere. */
  lateRecordsDropped?: number;
}
