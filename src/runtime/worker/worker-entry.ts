// Entry of every worker thread (a piscina task that lives as long as the job): builds the graph, hosts subtasks.
import type { MessagePort } from 'node:worker_threads';
import { threadId } from 'node:worker_threads';
import { BatchEncoder } from '../channels/batch-codec.ts';
import { ChannelWriter } from '../channels/channel-writer.ts';
import type { InputGate } from '../channels/input-gate.ts';
import { connectInboundPort, LocalTransport, PortTransport } from '../channels/transports.ts';
import type { ChannelStats } from '../channels/types.ts';
import { CorruptCheckpointError } from '../../checkpoint/index.ts';
import { AsyncTimeoutError, BatonInternalError, JobConfigError, JobModuleError, reviveThrown, type SerializedThrown, serializeThrown, UnsupportedRecordValueError, UserFunctionError } from '../errors.ts';
import { rememberReferenceData } from '../reference-data.ts';
import { graphFingerprint } from '../graph/plan.ts';
import { runPreStateHooks } from '../lifecycle/pre-state-hooks.ts';
import type { EdgeWriters } from '../task/record-writer-output.ts';
import { InputTask } from '../task/input-task.ts';
import { SourceTask } from '../task/source-task.ts';
import type { Subtask, SubtaskHost } from '../task/subtask.ts';
import { isJobDefinition, type JobGraph, type PlannedChannel, type ReferenceData, type SourceSplit } from '../types.ts';
import type { CoordinatorCommand, SubtaskMetricsReport, WorkerEvent, WorkerPayload, WorkerRestore, WorkerResult } from './protocol.ts';
import { WorkerCheckpoints } from './worker-checkpoints.ts';
import { WorkerStateBackends } from './worker-state-backends.ts';
import { announceRuntimeLoaded } from './runtime-loaded.ts';
import type { InThreadChannels } from './in-thread-channels.ts';
import type { ProcessingTimeService } from '../time/processing-time-service.ts';
import type { ChannelStateRef } from '../../checkpoint/index.ts';
import { scopeStorage } from '../../checkpoint/scoped-storage.ts';
import { openStorage } from '../../checkpoint/storage/index.ts';

/**
 * What a worker reports it failed with: the error as thrown, its class, fields and stack kept (see
 * serializeThrown). A record value that cannot cross a channel and an asyncMap timeout are raised
 * by the runtime inside a user function's call, which wraps them: they are reported unwrapped.
 *
 * @example this.post({ type: 'failed', error: serializeFailure(error) });
 */
export function serializeFailure(error: unknown): SerializedThrown {
  const inner = error instanceof UserFunctionError ? error.cause : error;
  if (inner instanceof UnsupportedRecordValueError || inner instanceof AsyncTimeoutError) return serializeThrown(inner);
  return serializeThrown(error);
}

/**
 * What a worker running in the caller's thread (baton/testing) gets instead of a job module to
 * import and MessagePorts: the graph itself, channels that are direct calls, and a host that
 * watches its subtasks.
 */
export interface InThreadContext {
  /** Builds this worker's own graph (as a thread builds it from the job module: one instance of each user function per worker). */
  readonly buildGraph: () => JobGraph;
  readonly channels: InThreadChannels;
  /** The clock of processing-time timers (a test's manual clock); default the system's. */
  readonly processingTime?: ProcessingTimeService;
  /** Called once the session has built its subtasks. */
  readonly register: (session: InThreadWorker) => void;
}

/** A worker session as the in-thread host sees it. */
export interface InThreadWorker {
  readonly workerIndex: number;
  readonly subtasks: readonly Subtask[];
  /**
   * Nothing to process: no queued input, no batch in progress, no unsent output, no source with
   * input at hand (never once it failed); with `awaitAsync` (default) also no asyncMap request in flight.
   */
  isQuiet(awaitAsync?: boolean): boolean;
}

class WorkerSession implements InThreadWorker {
  readonly subtasks: Subtask[] = [];
  private readonly writers: ChannelWriter[] = [];
  private readonly portsByChannel = new Map<number, MessagePort>();
  private graph!: JobGraph;
  private stateBackends: WorkerStateBackends | undefined;
  private checkpoints: WorkerCheckpoints | undefined;
  private outcome: WorkerResult['outcome'] | undefined;
  private finish!: (result: WorkerResult) => void;
  private metricsTimer: ReturnType<typeof setInterval> | undefined;
  private constructed = false;
  /** The input gate of each input task here, by task id: channels into this worker end there. */
  private readonly gates = new Map<number, InputGate>();
  private firstRecordReported = false;
  private nextRequestId = 1;
  private readonly referenceRequests = new Map<number, { resolve: (buffer: SharedArrayBuffer) => void; reject: (error: unknown) => void }>();
  readonly result: Promise<WorkerResult>;

  constructor(
    private readonly payload: WorkerPayload,
    private readonly inThread?: InThreadContext,
  ) {
    this.result = new Promise((resolve) => {
      this.finish = resolve;
    });
    for (const { channelId, port } of payload.ports) this.portsByChannel.set(channelId, port);
  }

  async run(): Promise<WorkerResult> {
    const { control } = this.payload;
    control.on('message', (command: CoordinatorCommand) => {
      this.handle(command).catch((error) => this.failWith(error));
    });
    try {
      await this.loadGraph();
      this.post({ type: 'ready', threadId });
    } catch (error) {
      this.failWith(error);
    }
    return this.result;
  }

  private post(event: WorkerEvent): void {
    this.payload.control.postMessage(event);
  }

  get workerIndex(): number {
    return this.payload.workerIndex;
  }

  isQuiet(awaitAsync = true): boolean {
    // A failed session has reported to the coordinator, but the job fails only once that message
    // arrives: until then a test step that settles on quiet would resolve as if nothing happened.
    if (this.outcome === 'failed') return false;
    return this.subtasks.every((s) => s.isQuiet(awaitAsync)) && this.writers.every((w) => w.pendingRecords === 0 && w.available);
  }

  private async loadGraph(): Promise<void> {
    const { moduleUrl, buildConfig } = this.payload;
    if (this.inThread) {
      // Built from the caller's job definition: nothing to import, and the same functions as in its test.
      this.graph = this.inThread.buildGraph();
      this.checkFingerprint();
      return;
    }
    // The job runs from its bundle, which carries a source map: with maps on, a user's stack trace
    // names their own files and lines (the runtime, loaded before this, keeps its compiled frames).
    process.setSourceMapsEnabled(true);
    const module = (await import(moduleUrl)) as { default?: unknown };
    if (!isJobDefinition(module.default)) throw new JobModuleError(moduleUrl, 'does not export a job (export default defineJob(...))');
    this.graph = module.default.buildGraph(buildConfig);
    this.checkFingerprint();
  }

  private checkFingerprint(): void {
    const fingerprint = graphFingerprint(this.graph);
    if (fingerprint !== this.payload.plan.fingerprint) {
      throw new JobConfigError('defineJob', `the job graph built in worker ${this.payload.workerIndex} differs from the coordinator's: the function given to defineJob must build the same graph every time`);
    }
  }

  private async handle(command: CoordinatorCommand): Promise<void> {
    if (this.outcome) return;
    switch (command.type) {
      case 'run-hooks': {
        const hookMs = await runPreStateHooks(this.graph.hooks, {
          workerIndex: this.payload.workerIndex,
          workers: this.payload.plan.workers,
          jobId: this.payload.jobId,
          loadReferenceData: (uri) => this.requestReferenceData(uri),
        });
        this.post({ type: 'hooks-done', hookMs });
        return;
      }
      case 'reference-data': {
        const waiter = this.referenceRequests.get(command.requestId);
        this.referenceRequests.delete(command.requestId);
        if (command.buffer) waiter?.resolve(command.buffer);
        else waiter?.reject(command.error ? reviveThrown(command.error) : new BatonInternalError(`reference data request ${command.requestId} was answered with neither data nor an error`));
        return;
      }
      case 'follow': {
        this.constructSubtasks();
        let chunks = 0;
        let bytes = 0;
        let reloads = 0;
        try {
          for (const op of command.restore.operators) {
            const subtask = this.subtaskOf(op.uid);
            if (!subtask || op.chains.length === 0) continue;
            const applied = await this.requireCheckpoints().followKeyed(subtask, op.uid, op.chains, { checkpointId: command.restore.checkpointId });
            chunks += applied.chunks;
            bytes += applied.bytes;
            reloads += applied.reloads;
          }
        } catch (error) {
          // A chunk that is gone: the running job's retention may have discarded the checkpoint
          // while it was followed. Not fatal here: followKeyed downloads an operator's chunks before
          // it applies any and records per chain what it applied, so the state stays exact chain
          // by chain and the next follow continues each chain from where it is.
          if (!(error instanceof CorruptCheckpointError && error.reason === 'missing')) throw error;
          this.post({ type: 'followed', checkpointId: command.restore.checkpointId, chunks, bytes, reloads, missing: error.key });
          return;
        }
        this.post({ type: 'followed', checkpointId: command.restore.checkpointId, chunks, bytes, reloads });
        return;
      }
      case 'prefetch':
        this.constructSubtasks();
        for (const op of command.restore.operators) if (op.chains.length > 0 && this.subtaskOf(op.uid)) this.checkpoints?.prefetchKeyed(op.uid, op.chains);
        return;
      case 'restore': {
        const applied = await this.createSubtasks(command.restore, command.incremental === true);
        this.post({ type: 'restored', applied });
        return;
      }
      case 'trigger-checkpoint':
        this.checkpoints?.noteTrigger(command.id, command.stop !== undefined);
        for (const subtask of this.subtasks) subtask.triggerCheckpoint({ id: command.id, stop: command.stop, at: command.at, ...(command.cut ? { cut: command.cut } : {}) });
        return;
      case 'hold-sources':
        for (const subtask of this.subtasks) subtask.holdSource();
        return;
      case 'release-sources':
        for (const subtask of this.subtasks) subtask.releaseSource();
        return;
      case 'shadow-sample': {
        const sinks = await Promise.all(this.subtasks.flatMap((s) => s.shadowSinks().map((sink) => sink.shadowSample(command.flush))));
        this.post({ type: 'shadow-sample', requestId: command.requestId, sinks });
        return;
      }
      case 'prepare-cut':
        await Promise.all(this.subtasks.flatMap((s) => s.shadowSinks().map((sink) => sink.prepareCut(command.cutId, command.states[sink.uid] ?? []))));
        // The first live record (after the cut's barrier) is reported like a first record.
        this.firstRecordReported = false;
        this.post({ type: 'cut-prepared' });
        return;
      case 'checkpoint-complete':
        for (const subtask of this.subtasks) await subtask.notifyCheckpointComplete(command.id);
        // The final checkpoint: committed above, so now the subtasks may finish (never before the commit).
        if (command.final) for (const subtask of this.subtasks) await subtask.finishAfterFinalCheckpoint(command.id);
        return;
      case 'checkpoint-aborted':
        for (const subtask of this.subtasks) subtask.checkpointAborted(command.id);
        return;
      case 'stop':
        for (const subtask of this.subtasks) await subtask.suspend();
        return;
      case 'resume':
        // The coordinator measures the rollback's downtime up to the first record after this.
        this.firstRecordReported = false;
        for (const subtask of this.subtasks) subtask.resumeAfterStop(command.id);
        return;
      case 'start':
        this.start();
        return;
      case 'cancel':
        await this.end('canceled');
        return;
    }
  }

  private requestReferenceData(uri: string): Promise<ReferenceData> {
    if (typeof uri !== 'string' || uri.length === 0) return Promise.reject(new TypeError('loadReferenceData needs a file:// or s3:// URI'));
    const requestId = this.nextRequestId++;
    return new Promise<SharedArrayBuffer>((resolve, reject) => {
      this.referenceRequests.set(requestId, { resolve, reject });
      this.post({ type: 'reference-data-request', requestId, uri });
    }).then((buffer) => {
      const data: ReferenceData = { uri, buffer, bytes: buffer.byteLength };
      rememberReferenceData(uri, data);
      return data;
    });
  }

  private requireCheckpoints(): WorkerCheckpoints {
    if (!this.checkpoints) throw new BatonInternalError('restoring keyed state needs checkpoint storage');
    return this.checkpoints;
  }

  private subtaskOf(uid: string): Subtask | undefined {
    return this.subtasks.find((s) => s.task.operators.some((o) => o.uid === uid));
  }

  /** Builds this worker's subtasks and state (once): following a checkpoint needs them before the restore. */
  private constructSubtasks(): void {
    if (this.constructed) return;
    this.constructed = true;
    const { plan, workerIndex, tuning, state } = this.payload;
    this.stateBackends = new WorkerStateBackends(state, plan.maxParallelism);
    if (state.checkpointStorage) {
      const storage = scopeStorage(openStorage(state.checkpointStorage, { s3: state.s3, timeouts: state.storageTimeouts }), this.payload.jobId);
      this.checkpoints = new WorkerCheckpoints(
        storage,
        this.stateBackends.codec,
        {
          ack: (id, task, ack) => this.post({ type: 'checkpoint-ack', id, task, ack }),
          decline: (id, task, reason) => this.post({ type: 'checkpoint-decline', id, task, reason }),
        },
        this.graph.config.checkpointing?.materialization,
        this.graph.config.checkpointing?.continuousSpill,
      );
    }
    const backends = this.stateBackends;
    const host: SubtaskHost = {
      workerIndex,
      jobId: this.payload.jobId,
      maxParallelism: plan.maxParallelism,
      tuning,
      onFailure: (error: unknown) => this.failWith(error),
      createKeyedState: (uid, subtaskIndex, range) => backends.create(uid, subtaskIndex, range),
      onSnapshot: (subtask, id, parts) => {
        if (!this.checkpoints) throw new BatonInternalError('checkpoint triggered without checkpoint storage');
        this.checkpoints.onSnapshot(subtask, id, parts);
      },
      onInputEnded: (subtask) => this.post({ type: 'source-finished', task: `${subtask.task.id}/${subtask.subtaskIndex}` }),
      awaitFinalCheckpoint: this.payload.awaitFinalCheckpoint,
      onFirstRecord: (at) => {
        if (this.firstRecordReported) return;
        this.firstRecordReported = true;
        this.post({ type: 'first-record', at });
      },
      onSourceHeld: (subtask, splits) => this.post({ type: 'sources-held', task: `${subtask.task.id}/${subtask.subtaskIndex}`, uid: subtask.task.operators[0].uid, splits }),
      ...(this.payload.shadow ? { shadow: this.payload.shadow } : {}),
      checkpointMode: this.graph.config.checkpointing?.mode,
      alignedTimeoutMs: this.graph.config.checkpointing?.alignedTimeoutMs,
      createInFlightLog: (subtask) => this.checkpoints?.createInFlightLog(subtask),
      ...(this.inThread?.processingTime ? { processingTime: this.inThread.processingTime } : {}),
      // In one thread under a test: no time slicing, so the output does not depend on the machine's load.
      ...(this.inThread ? { drainSliceMs: Number.POSITIVE_INFINITY } : {}),
    };
    for (const task of plan.tasks) {
      if (workerIndex >= task.parallelism) continue;
      const inputs = plan.channels.filter((c) => c.toTask === task.id && c.toSubtask === workerIndex).length;
      // Which of the head's inputs (0 or 1) each input channel belongs to: two-input operators need it.
      // The head's own graph input says (its first input may be a union of several graph inputs).
      const headInputs = this.graph.nodes[task.operators[0].nodeId].inputs;
      const channelInputs = plan.channels
        .filter((c) => c.toTask === task.id && c.toSubtask === workerIndex)
        .sort((a, b) => a.inputChannelIndex - b.inputChannelIndex)
        .map((c) => {
          const edge = task.inputs.find((e) => e.id === c.edgeId);
          return edge !== undefined && headInputs[edge.inputIndex]?.second ? 1 : 0;
        });
      const subtask = task.isSource ? new SourceTask(task, workerIndex, this.graph.nodes, host) : new InputTask(task, workerIndex, this.graph.nodes, host, inputs, channelInputs);
      this.subtasks.push(subtask);
      if (subtask instanceof InputTask) this.gates.set(task.id, subtask.gate);
    }
    this.inThread?.register(this);
  }

  private async createSubtasks(restore: WorkerRestore | undefined, incremental: boolean): Promise<{ chunks: number; bytes: number; reloads: number }> {
    const { plan, workerIndex } = this.payload;
    const encoder = new BatchEncoder();
    this.constructSubtasks();
    const isLocal = (c: PlannedChannel) => c.fromSubtask === workerIndex && c.toSubtask === workerIndex;
    // Before any channel is connected: a subtask with channel state to restore holds its input
    // behind that state, whichever restore (its own or its upstream's) reads its file first.
    const recovering = restore ? this.subtasksWithChannelState(restore) : [];
    for (const { subtask } of recovering) subtask.expectChannelState();
    // Consumer ends first, so local producers can find their gate.
    for (const channel of plan.channels) {
      if (channel.toSubtask !== workerIndex || isLocal(channel)) continue;
      const gate = this.gates.get(channel.toTask)!;
      if (this.inThread) this.inThread.channels.consumer(channel.id, gate, channel.inputChannelIndex);
      else connectInboundPort(this.requirePort(channel), gate, channel.inputChannelIndex);
    }
    const applied = restore ? await this.restore(restore, incremental) : { chunks: 0, bytes: 0, reloads: 0 };
    for (const subtask of this.subtasks) {
      const edges: EdgeWriters[] = subtask.task.outputs.map((edge) => {
        const consumer = plan.tasks[edge.to];
        const channels = plan.channels
          .filter((c) => c.edgeId === edge.id && c.fromSubtask === workerIndex)
          .sort((a, b) => a.outputChannelIndex - b.outputChannelIndex);
        const writers = channels.map((channel) => this.createWriter(channel, subtask, encoder, isLocal(channel)));
        const keyNode = edge.keyNodeId !== undefined ? this.graph.nodes[edge.keyNodeId] : undefined;
        // The consumer's own input of this edge: a two-input operator keys each input its own way.
        const keyInput = keyNode?.inputs[edge.inputIndex];
        return {
          partitioning: edge.partitioning,
          writers,
          keySelector: keyInput?.keySelector,
          keyOwnerUid: keyNode?.uid ?? consumer.operators[0].uid,
          fromNodeId: edge.fromNodeId,
          ...(edge.sideOutput !== undefined ? { sideOutput: edge.sideOutput } : {}),
        };
      });
      await subtask.open(edges);
    }
    if (restore) await this.restoreChannelState(restore.checkpointId, recovering);
    return applied;
  }

  /** The subtasks of this worker that have channel state in the restored checkpoint, with its file. */
  private subtasksWithChannelState(restore: WorkerRestore): Array<{ subtask: Subtask; ref: ChannelStateRef }> {
    const found: Array<{ subtask: Subtask; ref: ChannelStateRef }> = [];
    for (const ref of restore.channelState) {
      const subtask = this.subtasks.find((s) => s.task.operators[0].uid === ref.uid && s.subtaskIndex === ref.subtaskIndex);
      if (subtask) found.push({ subtask, ref });
      // The coordinator checked that such data begins a task here; a known operator without one would lose its records.
      else if (this.graph.nodes.some((n) => n.uid === ref.uid)) throw new BatonInternalError(`in-flight data of operator '${ref.uid}' (subtask ${ref.subtaskIndex}) has no task to replay into`);
    }
    return found;
  }

  /**
   * Unaligned restore: in-flight data of the checkpoint is replayed before any new input. Files
   * are read in parallel; the order per channel does not depend on which read finishes first,
   * since every gate with recovered input holds arrivals behind it (see expectChannelState).
   */
  private async restoreChannelState(checkpointId: number, recovering: ReadonlyArray<{ subtask: Subtask; ref: ChannelStateRef }>): Promise<void> {
    if (recovering.length === 0) return;
    if (!this.checkpoints) throw new BatonInternalError('restoring channel state needs checkpoint storage');
    const checkpoints = this.checkpoints;
    await Promise.all(
      recovering.map(async ({ subtask, ref }) => {
        subtask.restoreChannelState(await checkpoints.readChannelState(checkpointId, ref));
      }),
    );
  }

  /** Rebuilds keyed state (chunks downloaded in parallel), operator states and source splits. */
  private async restore(restore: WorkerRestore, incremental: boolean): Promise<{ chunks: number; bytes: number; reloads: number }> {
    const applied = { chunks: 0, bytes: 0, reloads: 0 };
    const byUid = new Map<string, Subtask>();
    for (const subtask of this.subtasks) for (const op of subtask.task.operators) byUid.set(op.uid, subtask);
    await Promise.all(
      restore.operators.map(async (op) => {
        const subtask = byUid.get(op.uid);
        if (!subtask) return;
        if (op.chains.length > 0) {
          const checkpoints = this.requireCheckpoints();
          if (incremental) {
            const r = await checkpoints.followKeyed(subtask, op.uid, op.chains, { overlay: true, checkpointId: restore.checkpointId });
            applied.chunks += r.chunks;
            applied.bytes += r.bytes;
            applied.reloads += r.reloads;
          } else {
            await checkpoints.restoreKeyed(subtask, op.uid, op.chains, restore.checkpointId);
          }
        }
        if (op.splits) subtask.restoreSplits([...op.splits] as SourceSplit[]);
      }),
    );
    this.checkpoints?.endPrefetch();
    for (const subtask of this.subtasks) {
      const states = new Map<string, readonly unknown[]>();
      for (const op of restore.operators) if (byUid.get(op.uid) === subtask && op.states.length > 0) states.set(op.uid, op.states);
      await subtask.initializeState(states);
    }
    return applied;
  }

  private createWriter(channel: PlannedChannel, producer: Subtask, encoder: BatchEncoder, local: boolean): ChannelWriter {
    const { tuning } = this.payload;
    const onAvailable = () => producer.onWriterAvailable();
    if (local) {
      const gate = this.gates.get(channel.toTask)!;
      const writer = new ChannelWriter(channel.id, new LocalTransport(gate, channel.inputChannelIndex), tuning.channelCredits, tuning.batchSize, onAvailable, 'local');
      gate.connect(channel.inputChannelIndex, () => writer.addCredits(1));
      this.writers.push(writer);
      return writer;
    }
    if (this.inThread) {
      // Workers in one thread: a direct call like a local channel, with the same credits.
      const writer = new ChannelWriter(channel.id, this.inThread.channels.transport(channel.id), tuning.channelCredits, tuning.batchSize, onAvailable, 'local');
      this.inThread.channels.producer(channel.id, writer);
      this.writers.push(writer);
      return writer;
    }
    const port = this.requirePort(channel);
    const writer = new ChannelWriter(channel.id, new PortTransport(port, encoder), tuning.channelCredits, tuning.batchSize, onAvailable, 'port');
    port.on('message', (credits: number) => writer.addCredits(credits));
    this.writers.push(writer);
    return writer;
  }

  private requirePort(channel: PlannedChannel): MessagePort {
    const port = this.portsByChannel.get(channel.id);
    if (!port) throw new BatonInternalError(`no port for channel ${channel.id} on worker ${this.payload.workerIndex}`);
    return port;
  }

  private start(): void {
    this.metricsTimer = setInterval(() => this.post({ type: 'metrics', operators: this.metricsReport() }), this.payload.metricsIntervalMs);
    this.metricsTimer.unref();
    for (const subtask of this.subtasks) subtask.start();
    Promise.all(this.subtasks.map((s) => s.done))
      .then(() => this.end('finished'))
      .catch((error) => this.failWith(error));
  }

  private failWith(error: unknown): void {
    if (this.outcome) return;
    const serialized = serializeFailure(error);
    this.post({ type: 'failed', error: serialized });
    void this.end('failed', serialized);
  }

  private async end(outcome: WorkerResult['outcome'], error?: SerializedThrown): Promise<void> {
    if (this.outcome) return;
    this.outcome = outcome;
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    if (outcome !== 'finished') {
      for (const subtask of this.subtasks) subtask.cancel();
      await Promise.all(this.subtasks.map((s) => s.abort()));
    }
    const channels: ChannelStats[] = this.writers.map((w) => ({ ...w.stats }));
    const sinkResults: Array<{ uid: string; subtaskIndex: number; value: unknown }> = [];
    if (outcome === 'finished') {
      for (const subtask of this.subtasks) {
        const result = await subtask.done;
        for (const r of result?.sinkResults ?? []) sinkResults.push({ uid: r.uid, subtaskIndex: subtask.subtaskIndex, value: r.value });
      }
    }
    const operators = this.metricsReport();
    await this.checkpoints?.close();
    this.stateBackends?.close();
    for (const port of this.portsByChannel.values()) port.close();
    this.payload.control.close();
    this.finish({ workerIndex: this.payload.workerIndex, outcome, error, operators, sinkResults, channels });
  }

  private metricsReport(): SubtaskMetricsReport[] {
    return this.subtasks.flatMap((s) => {
      const backpressuredMs = Math.round(s.backpressuredTime());
      return s.task.operators.map((o, i) => {
        // Counters copied too: a report must not change after it was taken (in-thread runs share objects).
        const counters = s.metrics[i].counters;
        return { uid: o.uid, subtaskIndex: s.subtaskIndex, metrics: { ...s.metrics[i], ...(counters ? { counters: { ...counters } } : {}) }, backpressuredMs };
      });
    });
  }
}

/** The piscina task function: runs this worker's share of the job until it ends. */
export default function runWorker(payload: WorkerPayload): Promise<WorkerResult> {
  return new WorkerSession(payload).run();
}

/** Runs one worker's share of the job in the calling thread (see InThreadContext). */
export function runWorkerInThread(payload: WorkerPayload, context: InThreadContext): Promise<WorkerResult> {
  return new WorkerSession(payload, context).run();
}

// A top-level await makes piscina import() this module instead of require()-ing it (Node ≥ 20.19
// can require ES modules). A require()d graph is a second instance of every chunk it shares with
// the job's `import 'baton'`, and the runtime's registries (reference data, storage schemes) and
// classes (errors checked with instanceof) must exist once per thread.
await Promise.resolve();
announceRuntimeLoaded();
