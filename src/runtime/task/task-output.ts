// A task's output: the channel writers of its outgoing edges, their availability (back-pressure) and what goes to all of them.
import type { ChannelWriter } from '../channels/channel-writer.ts';
import type { RecordedBatch } from '../channels/input-gate.ts';
import type { OperatorMetrics } from '../types.ts';
import { type EdgeWriters, RecordWriterOutput } from './record-writer-output.ts';

/** Where the records of a chain go: the tail's main output, and per chained operator (node id) its side outputs by tag. */
export interface ChainOutputs {
  readonly main: RecordWriterOutput;
  readonly sides: ReadonlyMap<number, ReadonlyMap<string, RecordWriterOutput>>;
}

/** Who produces on the edges: the chain's tail and, for side outputs, each operator by node id. */
export interface Producer {
  readonly maxParallelism: number;
  readonly subtaskIndex: number;
  readonly tailUid: string;
  readonly tailMetrics: OperatorMetrics;
  /** uid of the chained operator with node id `nodeId` (side outputs). */
  uidOf(nodeId: number): string;
}

/**
 * The writers of one task, connected once when the task opens. Clock reads happen only when
 * output becomes unavailable or available again, never per record or batch, so measuring
 * back-pressure costs nothing on the hot path.
 *
 * @example
 * ```ts
 * const output = new TaskOutput();
 * const { main } = output.connect(edges, producer); // the chain's tail collects into `main`
 * if (!output.available()) output.markBlocked(); // until a writer's credit comes back
 * ```
 */
export class TaskOutput {
  private writers: readonly ChannelWriter[] = [];
  /** Back-pressure: ms the output was unavailable (writers without credit), over periods that ended. */
  private backpressuredMs = 0;
  /** performance.now() when the current back-pressured period began; -1: output available. */
  private blockedSince = -1;

  /**
   * Takes the writers of `edges` and builds the routers records go through: one for the main
   * output, one per side output tag (side records are counted apart from recordsOut).
   */
  connect(edges: readonly EdgeWriters[], producer: Producer): ChainOutputs {
    this.writers = edges.flatMap((e) => [...e.writers]);
    const main = new RecordWriterOutput(
      edges.filter((e) => e.sideOutput === undefined),
      producer.tailMetrics,
      producer.maxParallelism,
      producer.subtaskIndex,
      producer.tailUid,
    );
    const grouped = new Map<number, Map<string, EdgeWriters[]>>();
    for (const edge of edges) {
      if (edge.sideOutput === undefined || edge.fromNodeId === undefined) continue;
      const byTag = grouped.get(edge.fromNodeId) ?? new Map<string, EdgeWriters[]>();
      grouped.set(edge.fromNodeId, byTag);
      byTag.set(edge.sideOutput, [...(byTag.get(edge.sideOutput) ?? []), edge]);
    }
    const sides = new Map<number, Map<string, RecordWriterOutput>>();
    for (const [nodeId, byTag] of grouped) {
      const uid = producer.uidOf(nodeId);
      const counted: OperatorMetrics = { recordsIn: 0, recordsOut: 0 };
      sides.set(nodeId, new Map([...byTag].map(([tag, tagEdges]) => [tag, new RecordWriterOutput(tagEdges, counted, producer.maxParallelism, producer.subtaskIndex, uid)])));
    }
    return { main, sides };
  }

  /** Every writer has credit (read per batch, so a plain loop). */
  available(): boolean {
    const writers = this.writers;
    for (let i = 0; i < writers.length; i++) if (!writers[i].available) return false;
    return true;
  }

  /** Sends what the writers hold (a partial batch). */
  flush(): void {
    for (const writer of this.writers) if (writer.pendingRecords > 0) writer.flush();
  }

  markBlocked(): void {
    if (this.blockedSince < 0) this.blockedSince = performance.now();
  }

  markUnblocked(): void {
    if (this.blockedSince < 0) return;
    this.backpressuredMs += performance.now() - this.blockedSince;
    this.blockedSince = -1;
  }

  /** Ms the task could not send since it started, the current period included. */
  backpressuredTime(): number {
    return this.blockedSince < 0 ? this.backpressuredMs : this.backpressuredMs + performance.now() - this.blockedSince;
  }

  /** An aligned barrier behind everything sent so far. */
  barrier(checkpointId: number, at: number | undefined): void {
    for (const writer of this.writers) writer.barrier(checkpointId, at);
  }

  /** A priority barrier overtaking what is not sent yet: returns that, per writer (the output channel state). */
  priorityBarrier(checkpointId: number, at: number | undefined): RecordedBatch[][] {
    return this.writers.map((w) => w.priorityBarrier(checkpointId, at));
  }

  /** Restore: the recovered output, per writer, goes out before any new output. */
  replay(output: ReadonlyArray<readonly RecordedBatch[]>): void {
    output.forEach((batches, i) => this.writers[i]?.replay(batches));
  }

  end(): void {
    for (const writer of this.writers) writer.end();
  }
}
