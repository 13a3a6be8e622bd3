// The operators of one subtask's chain: created with their contexts and keyed state, opened from the tail, snapshotted and closed together.
import { keyGroupRangeFor } from '../../state/key-groups.ts';
import { HeapKeyedStateBackend } from '../../state/heap/heap-keyed-state-backend.ts';
import type { KeyedStateBackend } from '../../state/types.ts';
import type { GraphNode, OperatorContext, OperatorMetrics, Output, PlannedTask, Source, StreamOperator } from '../types.ts';
import { ChainedOutput } from './chained-output.ts';
import { SideRoutingOutput } from './side-outputs.ts';
import type { SubtaskHost, SubtaskResult, SubtaskSnapshotParts } from './subtask.ts';
import type { ChainOutputs } from './task-output.ts';

/** What the task offers its operators through their contexts. */
export interface TaskServices {
  currentProcessingTime(): number;
  /** A processing-time timer; returns its cancel. */
  scheduleProcessingTime(atMs: number, fire: () => void): () => void;
  fail(error: unknown): void;
  /** Operator `operatorId` (node id) stops taking input until it resumes it. */
  pauseInput(operatorId: number): void;
  resumeInput(operatorId: number): void;
  /** Work of an operator from an asynchronous callback, run on the task. */
  runOnTask(action: () => void): void;
}

/**
 * A source task's chain starts with its source (no operator: the task reads it); an input task's
 * with the operator its input feeds. Metrics are per chain node, the source's included.
 *
 * @example
 * ```ts
 * const chain = new OperatorChain(plannedTask, 0, graph.nodes, host, services);
 * const entry = await chain.open(output.connect(edges, producer)); // where a source emits
 * host.onSnapshot?.(task, 7, { operators: chain.snapshot(7, sourceState) });
 * ```
 */
export class OperatorChain {
  readonly metrics: OperatorMetrics[];
  readonly source: Source<unknown> | undefined;
  /** The chain's operators, head first (a source is not one). */
  readonly operators: readonly StreamOperator[];
  readonly nodes: readonly GraphNode[];
  private readonly backends: KeyedStateBackend[] = [];
  private readonly backendsByUid = new Map<string, KeyedStateBackend>();
  private readonly sinkResults: Array<{ uid: string; value: unknown }> = [];

  constructor(
    private readonly task: PlannedTask,
    private readonly subtaskIndex: number,
    graphNodes: readonly GraphNode[],
    private readonly host: SubtaskHost,
    services: TaskServices,
  ) {
    const chainNodes = task.operators.map((o) => graphNodes[o.nodeId]);
    this.metrics = chainNodes.map(() => ({ recordsIn: 0, recordsOut: 0 }));
    this.source = task.isSource ? chainNodes[0].source : undefined;
    this.nodes = task.isSource ? chainNodes.slice(1) : chainNodes;
    const offset = this.metricsOffset;
    this.operators = this.nodes.map((node, i) => node.operator!.create(this.contextOf(node, this.metrics[i + offset], services)));
  }

  /** Index in `metrics` of the first operator's: the source counts first. */
  private get metricsOffset(): number {
    return this.task.isSource ? 1 : 0;
  }

  private contextOf(node: GraphNode, metrics: OperatorMetrics, services: TaskServices): OperatorContext {
    let keyedState: KeyedStateBackend | undefined;
    if (node.keyed) {
      const range = keyGroupRangeFor(this.subtaskIndex, this.task.parallelism, this.host.maxParallelism);
      keyedState =
        this.host.createKeyedState?.(node.uid, this.subtaskIndex, range) ??
        new HeapKeyedStateBackend({ keyGroupRange: range, maxParallelism: this.host.maxParallelism });
      this.backends.push(keyedState);
      this.backendsByUid.set(node.uid, keyedState);
    }
    return {
      uid: node.uid,
      name: node.name,
      subtaskIndex: this.subtaskIndex,
      parallelism: this.task.parallelism,
      maxParallelism: this.host.maxParallelism,
      workerIndex: this.host.workerIndex,
      ...(this.host.jobId !== undefined ? { jobId: this.host.jobId } : {}),
      keyedState,
      // A call through the service, not a cached value: operators read it per batch or per timer, never per record.
      currentProcessingTime: () => services.currentProcessingTime(),
      scheduleProcessingTime: (atMs, fire) => services.scheduleProcessingTime(atMs, fire),
      fail: (error) => services.fail(error),
      metrics,
      pauseInput: () => services.pauseInput(node.id),
      resumeInput: () => services.resumeInput(node.id),
      runOnTask: (action) => services.runOnTask(action),
    };
  }

  /** uid of the chain's last node: the producer of the task's main output. */
  get tailUid(): string {
    return this.task.operators[this.task.operators.length - 1].uid;
  }

  get tailMetrics(): OperatorMetrics {
    return this.metrics[this.metrics.length - 1];
  }

  /** uid of the chained operator with node id `nodeId` (the tail's if none). */
  uidOf(nodeId: number): string {
    return this.nodes.find((n) => n.id === nodeId)?.uid ?? this.tailUid;
  }

  /**
   * Wires each operator to the next and the last to `outputs`, and opens them from the tail, so
   * each operator's output is ready before anything can call it. Returns where a source emits.
   */
  async open(outputs: ChainOutputs): Promise<Output> {
    const offset = this.metricsOffset;
    const ops = this.operators;
    for (let i = ops.length - 1; i >= 0; i--) {
      const main = i + 1 < ops.length ? new ChainedOutput(this.metrics[i + offset], this.metrics[i + 1 + offset], ops[i + 1]) : outputs.main;
      const side = outputs.sides.get(this.nodes[i].id);
      await ops[i].open(side ? new SideRoutingOutput(main, side) : main);
    }
    return ops.length > 0 && this.source ? new ChainedOutput(this.metrics[0], this.metrics[1], ops[0]) : outputs.main;
  }

  /** Restores operator state (what snapshotState returned, per old subtask) before open. */
  async initializeState(statesByUid: ReadonlyMap<string, readonly unknown[]>): Promise<void> {
    for (let i = 0; i < this.operators.length; i++) {
      const states = statesByUid.get(this.nodes[i].uid);
      if (states) await this.operators[i].initializeState?.(states);
    }
  }

  /** Every operator's state at checkpoint n, the source's (where its splits are) first. */
  snapshot(checkpointId: number, sourceState: unknown): SubtaskSnapshotParts['operators'] {
    const parts: Array<{ uid: string; state: unknown; keyedState?: KeyedStateBackend }> = [];
    if (this.source) parts.push({ uid: this.task.operators[0].uid, state: sourceState });
    for (let i = 0; i < this.operators.length; i++) {
      const uid = this.nodes[i].uid;
      parts.push({ uid, state: this.operators[i].snapshotState?.(checkpointId), keyedState: this.backendsByUid.get(uid) });
    }
    return parts;
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    for (const op of this.operators) await op.notifyCheckpointComplete?.(checkpointId);
  }

  endOfBatch(): void {
    const ops = this.operators;
    for (let i = 0; i < ops.length; i++) ops[i].endOfBatch();
  }

  /** No operator has work under way outside the record path (asyncMap requests in flight). */
  isIdle(): boolean {
    for (const op of this.operators) if (op.isIdle?.() === false) return false;
    return true;
  }

  keyedStateOf(uid: string): KeyedStateBackend | undefined {
    return this.backendsByUid.get(uid);
  }

  /** Finishes and closes every operator in order (sinks commit); what sinks return is the result. */
  async finish(): Promise<void> {
    for (let i = 0; i < this.operators.length; i++) {
      const op = this.operators[i];
      await op.finish?.();
      this.keep(i, await op.close());
    }
  }

  /** Suspends and closes every operator: no draining, sinks keep what checkpoints staged. */
  async suspend(): Promise<void> {
    for (let i = 0; i < this.operators.length; i++) {
      await this.operators[i].suspend?.();
      this.keep(i, await this.operators[i].close());
    }
  }

  /** Closes every operator without committing (sinks abort) after a failure or cancel. */
  async closeAfterFailure(): Promise<void> {
    for (const op of this.operators) {
      try {
        await op.close();
      } catch {
        // The job is already failing; the first error is the one reported.
      }
    }
  }

  private keep(index: number, value: unknown): void {
    if (value !== undefined) this.sinkResults.push({ uid: this.nodes[index].uid, value });
  }

  disposeState(): void {
    for (const backend of this.backends) backend.dispose();
    this.backends.length = 0;
  }

  result(): SubtaskResult {
    return {
      taskId: this.task.id,
      subtaskIndex: this.subtaskIndex,
      operators: this.task.operators.map((o, i) => ({ uid: o.uid, ...this.metrics[i] })),
      sinkResults: this.sinkResults,
    };
  }
}
