// An attempt in shadow mode: the coordinator's side of samples, source holds and the cut's preparation.
import { BatonInternalError } from '../errors.ts';
import type { CheckpointStorage } from '../../checkpoint/index.ts';
import type { ShadowSample } from '../operators/shadow-output.ts';
import type { HeldSplit } from '../task/source-cut.ts';
import type { CheckpointingConfig, ExecutionPlan, JobGraph } from '../types.ts';
import type { CoordinatorCommand, WorkerEvent, WorkerRestore } from '../worker/protocol.ts';
import type { OperatorProgress } from './job-handle.ts';
import type { HeldPositions, ShadowControl } from './start-sequence.ts';

/** What a shadow run needs from its attempt. */
export interface ShadowRunHost {
  readonly jobId: string;
  readonly jobStorage: CheckpointStorage;
  readonly graph: JobGraph;
  readonly plan: ExecutionPlan;
  readonly checkpointing: CheckpointingConfig | undefined;
  send(workerIndex: number, command: CoordinatorCommand): void;
  broadcast(command: CoordinatorCommand): void;
  progress(): Readonly<Record<string, OperatorProgress>>;
  readonly failed: Promise<never>;
}

interface Gathering<T> {
  readonly arrived: Set<string>;
  readonly items: T[];
  readonly resolve: (items: T[]) => void;
}

/**
 * Requests to the workers of a shadow attempt and their answers: each request is answered by
 * every worker (samples, the cut's preparation) or every source subtask (a hold), gathered here.
 * Everything resolves or rejects with the attempt (`failed`).
 */
export class ShadowRun {
  private nextRequest = 1;
  private readonly samples = new Map<number, Gathering<ShadowSample>>();
  private hold: Gathering<{ uid: string; splits: readonly HeldSplit[] }> | undefined;
  private cutPrepared: Gathering<never> | undefined;
  private cutPreparedAt = false;
  private resolveFirstLive!: (at: number) => void;
  private readonly firstLive = new Promise<number>((resolve) => {
    this.resolveFirstLive = resolve;
  });
  private liveSeen = false;

  constructor(private readonly host: ShadowRunHost) {}

  control(): ShadowControl {
    const { host } = this;
    const checkpointing = host.checkpointing;
    return {
      jobId: host.jobId,
      jobStorage: host.jobStorage,
      sample: (flush) => this.sample(flush),
      progress: () => host.progress(),
      holdSources: () => this.holdSources(),
      releaseSources: () => host.broadcast({ type: 'release-sources' }),
      sourceUids: host.graph.nodes.filter((n) => n.kind === 'source').map((n) => n.uid),
      compareOffsets: (uid) => {
        const source = host.graph.nodes.find((n) => n.kind === 'source' && n.uid === uid)?.source;
        return source?.compareOffsets ? (a, b) => source.compareOffsets!(a, b) : undefined;
      },
      alignedCheckpoints: checkpointing !== undefined && checkpointing.mode === 'aligned' && checkpointing.alignedTimeoutMs === undefined,
      failed: host.failed,
      firstLiveRecord: this.firstLive,
    };
  }

  /** Routes a worker's answer here; false for events that are not a shadow run's. */
  onWorkerEvent(workerIndex: number, event: WorkerEvent): boolean {
    switch (event.type) {
      case 'shadow-sample': {
        const gathering = this.samples.get(event.requestId);
        if (gathering) this.arrive(gathering, `${workerIndex}`, event.sinks, this.host.plan.workers, () => this.samples.delete(event.requestId));
        return true;
      }
      case 'sources-held':
        if (this.hold) this.arrive(this.hold, event.task, [{ uid: event.uid, splits: event.splits }], this.sourceSubtasks(), () => (this.hold = undefined));
        return true;
      case 'cut-prepared':
        if (this.cutPrepared) this.arrive(this.cutPrepared, `${workerIndex}`, [], this.host.plan.workers, () => (this.cutPrepared = undefined));
        return true;
      default:
        return false;
    }
  }

  /**
   * The cut: every sink creates its live writer and recovers its state in the running job's stop
   * checkpoint (from `restores`, planned for each worker); output turns live at checkpoint `cutId`.
   */
  async prepareCut(cutId: number, restores: readonly WorkerRestore[]): Promise<void> {
    const sinkUids = new Set(this.host.graph.nodes.filter((n) => n.kind === 'sink').map((n) => n.uid));
    const done = this.gather<never>((g) => {
      this.cutPrepared = g;
    });
    this.cutPreparedAt = true;
    restores.forEach((restore, workerIndex) => {
      const states: Record<string, readonly unknown[]> = {};
      for (const op of restore.operators) if (sinkUids.has(op.uid)) states[op.uid] = op.states;
      this.host.send(workerIndex, { type: 'prepare-cut', cutId, states });
    });
    for (let i = restores.length; i < this.host.plan.workers; i++) this.host.send(i, { type: 'prepare-cut', cutId, states: {} });
    await done;
  }

  /** A worker's first record: true when it is the first live one (after the cut was prepared). */
  firstRecord(at: number): boolean {
    if (!this.cutPreparedAt) return false;
    if (!this.liveSeen) {
      this.liveSeen = true;
      this.resolveFirstLive(at);
    }
    return true;
  }

  private async sample(flush: boolean): Promise<ShadowSample[]> {
    const requestId = this.nextRequest++;
    const done = this.gather<ShadowSample>((g) => this.samples.set(requestId, g));
    this.host.broadcast({ type: 'shadow-sample', requestId, flush });
    return (await done).sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : a.subtaskIndex - b.subtaskIndex));
  }

  private async holdSources(): Promise<HeldPositions> {
    if (this.hold) throw new BatonInternalError('the sources are being held already');
    const done = this.gather<{ uid: string; splits: readonly HeldSplit[] }>((g) => {
      this.hold = g;
    });
    this.host.broadcast({ type: 'hold-sources' });
    const positions: Record<string, HeldSplit[]> = {};
    for (const { uid, splits } of await done) positions[uid] = [...(positions[uid] ?? []), ...splits];
    return positions;
  }

  private sourceSubtasks(): number {
    return this.host.plan.tasks.filter((t) => t.isSource).reduce((n, t) => n + t.parallelism, 0);
  }

  private gather<T>(register: (g: Gathering<T>) => void): Promise<T[]> {
    const answered = new Promise<T[]>((resolve) => register({ arrived: new Set(), items: [], resolve }));
    return Promise.race([answered, this.host.failed]);
  }

  private arrive<T>(gathering: Gathering<T>, from: string, items: readonly T[], expected: number, forget: () => void): void {
    if (gathering.arrived.has(from)) return;
    gathering.arrived.add(from);
    gathering.items.push(...items);
    if (gathering.arrived.size < expected) return;
    forget();
    gathering.resolve(gathering.items);
  }
}
