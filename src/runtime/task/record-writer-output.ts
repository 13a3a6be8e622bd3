// The tail of a chain: routes each record to a channel of every outgoing edge (forward, rebalance or by key group).
import { keyGroupFor, subtaskForKeyGroup } from '../../state/key-groups.ts';
import type { ChannelWriter } from '../channels/channel-writer.ts';
import { findUnsupportedValue } from '../channels/record-values.ts';
import { UnsupportedRecordValueError, UserFunctionError } from '../errors.ts';
import type { KeySelector, OperatorMetrics, Output, Partitioning } from '../types.ts';

/** The writers of one edge, indexed by consumer subtask (a single writer for forward edges). */
export interface EdgeWriters {
  readonly partitioning: Partitioning;
  readonly writers: readonly ChannelWriter[];
  readonly keySelector?: KeySelector<unknown>;
  /** uid of the keyed consumer, to attribute key selector failures. */
  readonly keyOwnerUid?: string;
  /** The node whose output the edge carries (see PlannedEdge.fromNodeId). */
  readonly fromNodeId?: number;
  /** The side output the edge carries, if any. */
  readonly sideOutput?: string;
}

export class RecordWriterOutput implements Output {
  private readonly edges: EdgeWriters[];
  private readonly single: EdgeWriters | undefined;
  private readonly roundRobin: number[];
  /** Per edge: xorshift state of a `shuffle` edge, seeded by the producer subtask (reproducible). */
  private readonly shuffleState: number[];
  /** Per edge: key group → consumer subtask, precomputed (a division per record showed in profiles). */
  private readonly targets: Int32Array[];

  constructor(
    edges: readonly EdgeWriters[],
    private readonly metrics: OperatorMetrics,
    private readonly maxParallelism: number,
    private readonly subtaskIndex: number,
    /** uid of the chain's last operator, the one whose records these are. */
    private readonly producerUid: string,
  ) {
    this.edges = [...edges];
    this.single = edges.length === 1 ? edges[0] : undefined;
    this.roundRobin = edges.map((e) => subtaskIndex % Math.max(1, e.writers.length));
    this.shuffleState = edges.map((_, i) => (Math.imul(subtaskIndex + 1, 0x9e3779b1) ^ (i + 1)) | 1);
    this.targets = edges.map((e) => {
      const table = new Int32Array(maxParallelism);
      for (let kg = 0; kg < maxParallelism; kg++) table[kg] = subtaskForKeyGroup(kg, maxParallelism, e.writers.length);
      return table;
    });
  }

  collect(value: unknown, timestamp: number): void {
    // Every record leaving the chain is checked, on the local path as on the cross-thread one:
    // what a channel would change must fail the same way whichever subtask a key goes to.
    // A primitive costs one typeof here; objects are walked once without allocating.
    if (typeof value === 'object' ? value !== null : typeof value === 'function' || typeof value === 'symbol') this.checkValue(value);
    this.metrics.recordsOut++;
    if (this.single !== undefined) {
      this.route(this.single, 0, value, timestamp);
      return;
    }
    for (let i = 0; i < this.edges.length; i++) this.route(this.edges[i], i, value, timestamp);
  }

  private checkValue(value: unknown): void {
    const unsupported = findUnsupportedValue(value);
    if (unsupported) throw new UnsupportedRecordValueError(this.producerUid, this.subtaskIndex, unsupported.type, unsupported.path);
  }

  emitWatermark(watermark: number): void {
    for (const edge of this.edges) for (const writer of edge.writers) writer.flush(watermark);
  }

  private route(edge: EdgeWriters, edgeIndex: number, value: unknown, timestamp: number): void {
    const writers = edge.writers;
    switch (edge.partitioning) {
      case 'forward':
        writers[0].add(value, timestamp);
        return;
      case 'rebalance': {
        const next = this.roundRobin[edgeIndex];
        this.roundRobin[edgeIndex] = next + 1 === writers.length ? 0 : next + 1;
        writers[next].add(value, timestamp);
        return;
      }
      case 'hash': {
        let keyGroup: number;
        try {
          keyGroup = keyGroupFor(edge.keySelector!(value), this.maxParallelism);
        } catch (error) {
          throw new UserFunctionError(edge.keyOwnerUid ?? 'keyBy', this.subtaskIndex, error);
        }
        writers[this.targets[edgeIndex][keyGroup]].add(value, timestamp);
        return;
      }
      case 'broadcast':
        // The same record object to every channel: a consumer must not mutate its input (the same holds across threads, where each gets a copy).
        for (let i = 0; i < writers.length; i++) writers[i].add(value, timestamp);
        return;
      case 'shuffle': {
        let x = this.shuffleState[edgeIndex];
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        this.shuffleState[edgeIndex] = x;
        writers[(x >>> 0) % writers.length].add(value, timestamp);
        return;
      }
      case 'global':
        writers[0].add(value, timestamp);
        return;
    }
  }
}
