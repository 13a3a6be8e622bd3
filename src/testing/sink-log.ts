// What a job's sinks produced, as a test sees it: every sink is observed, transactionally, like a database behind it.
import type { StoredValueProblem } from '../checkpoint/restore/stored-values.ts';
import type { Sink, SinkContext, SinkWriter } from '../runtime/types.ts';
import { NO_TIMESTAMP } from '../runtime/types.ts';

/** One record a sink received. */
export interface SinkRecord<T = unknown> {
  readonly value: T;
  /** Its event time (undefined: none). */
  readonly timestamp: number | undefined;
  readonly subtaskIndex: number;
}

interface Transaction {
  readonly records: SinkRecord[];
  committed: boolean;
}

/**
 * The committed output of one sink uid, shared by a driver and every driver restored from its
 * checkpoints (as a database outlives the job that writes to it): a record is committed once the
 * checkpoint that staged it completed, or by a restore of that checkpoint (two-phase commit, each
 * checkpoint of each subtask one transaction, committed at most once).
 */
export class SinkLog {
  readonly committed: SinkRecord[] = [];
  private readonly transactions = new Map<string, Transaction>();

  stage(txn: string, records: SinkRecord[]): void {
    if (!this.transactions.has(txn)) this.transactions.set(txn, { records, committed: false });
  }

  /** Commits a staged transaction; a second commit (a restore of a checkpoint already committed) does nothing. */
  commit(txn: string): void {
    const t = this.transactions.get(txn);
    if (!t || t.committed) return;
    t.committed = true;
    this.committed.push(...t.records);
  }
}

/** This driver's view of one sink: what its writers received, and what is not committed yet. */
export class SinkView {
  readonly written: SinkRecord[] = [];
  /** Per subtask: the records written since the last commit point (staged or open). */
  readonly uncommitted = new Map<number, SinkRecord[]>();
  /** Per subtask: the newest checkpoint whose commit reached the sink. */
  readonly committedUpTo = new Map<number, number>();
}

interface ObservedState {
  readonly txn: string;
  readonly inner: unknown;
}

class ObservedWriter<T> implements SinkWriter<T> {
  private open: SinkRecord[] = [];
  private readonly staged = new Map<number, { txn: string; records: SinkRecord[] }>();

  constructor(
    private readonly inner: SinkWriter<T>,
    private readonly log: SinkLog,
    private readonly view: SinkView,
    private readonly ctx: SinkContext,
    private readonly runId: string,
  ) {
    view.uncommitted.set(ctx.subtaskIndex, []);
  }

  write(value: T, timestamp: number): void {
    this.inner.write(value, timestamp);
    const record: SinkRecord = { value, timestamp: timestamp === NO_TIMESTAMP ? undefined : timestamp, subtaskIndex: this.ctx.subtaskIndex };
    this.open.push(record);
    this.view.written.push(record);
    this.view.uncommitted.get(this.ctx.subtaskIndex)!.push(record);
  }

  prepareCommit(checkpointId: number): ObservedState | Promise<ObservedState> {
    const inner = this.inner.prepareCommit?.(checkpointId);
    const txn = `${this.ctx.uid}/${this.ctx.subtaskIndex}/${this.runId}/${checkpointId}`;
    this.log.stage(txn, this.open);
    this.staged.set(checkpointId, { txn, records: this.open });
    this.open = [];
    // An asynchronous pre-commit (a database's PREPARE) stays asynchronous: the runtime awaits it.
    if (inner instanceof Promise) return inner.then((value: unknown) => ({ txn, inner: value ?? null }));
    return { txn, inner: inner ?? null };
  }

  async commit(checkpointId: number): Promise<void> {
    await this.inner.commit?.(checkpointId);
    for (const [id, { txn }] of this.staged) {
      if (id > checkpointId) continue;
      this.log.commit(txn);
      this.staged.delete(id);
    }
    this.view.committedUpTo.set(this.ctx.subtaskIndex, checkpointId);
    this.view.uncommitted.set(this.ctx.subtaskIndex, [...[...this.staged.values()].flatMap((s) => s.records), ...this.open]);
  }

  async recover(states: readonly unknown[]): Promise<void> {
    const observed = states as readonly ObservedState[];
    if (this.inner.recover) await this.inner.recover(observed.map((s) => s.inner ?? undefined));
    for (const s of observed) this.log.commit(s.txn);
  }

  finish(): void | Promise<void> {
    return this.inner.finish();
  }

  abort(): void | Promise<void> {
    return this.inner.abort();
  }

  result(): unknown {
    return this.inner.result?.();
  }
}

/** Wraps `sink` so the test sees its records and commits; the sink itself still writes as in production. */
export function observeSink<T>(sink: Sink<T>, log: SinkLog, view: SinkView, runId: string): Sink<T> {
  return {
    kind: sink.kind,
    validate: () => sink.validate(),
    createWriter: (ctx) => new ObservedWriter(sink.createWriter(ctx), log, view, ctx, runId),
    checkRestoredState: (state: unknown): StoredValueProblem | undefined => {
      const s = state as Partial<ObservedState> | null;
      if (typeof s !== 'object' || s === null || typeof s.txn !== 'string') return { field: '', expected: 'an observed sink state { txn, inner }', value: state };
      const inner = sink.checkRestoredState?.(s.inner ?? undefined);
      return inner === undefined ? undefined : { ...inner, field: `.inner${inner.field}` };
    },
  };
}
