// "Write your own connector", part 2: a transactional sink. Each subtask keeps a checkpoint's records,
// writes them to a hidden pending file at the barrier (asynchronously: prepareCommit returns a promise),
// and publishes the file when the checkpoint completes. A restore publishes what the restored checkpoint
// staged and deletes the rest. Written against baton's public connector API only.
import { readdirSync, renameSync, unlinkSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HostileCheckpointError, JobConfigError, type Sink, type SinkContext, type SinkWriter, type StoredValueProblem } from 'baton';

export interface LedgerOptions {
  /** The directory of ledger files. */
  readonly dir: string;
}

/** Step 1, the state a subtask saves in each checkpoint: the checkpoints it staged and has not published. */
interface LedgerState {
  readonly subtask: number;
  readonly staged: readonly number[];
}

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Step 2, the check of that state when it is read back: it names files, so only numbers pass. */
function ledgerStateProblem(state: unknown): StoredValueProblem | undefined {
  if (state === undefined || state === null) return undefined;
  const s = state as Partial<LedgerState>;
  if (!isIndex(s.subtask)) return { field: '.subtask', expected: 'a subtask index', value: s.subtask };
  if (!Array.isArray(s.staged) || !s.staged.every(isIndex)) return { field: '.staged', expected: 'checkpoint numbers', value: s.staged };
  return undefined;
}

const pendingName = (uid: string, subtask: number, checkpoint: number) => `.pending-${uid}-${subtask}-${checkpoint}.jsonl`;
const ledgerName = (uid: string, subtask: number, checkpoint: number) => `ledger-${uid}-${subtask}-${checkpoint}.jsonl`;

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Step 3, the writer of one subtask. */
class LedgerWriter<T> implements SinkWriter<T> {
  private lines: string[] = [];
  private staged: number[] = [];

  constructor(
    private readonly dir: string,
    private readonly ctx: SinkContext,
  ) {}

  write(value: T): void {
    this.lines.push(JSON.stringify(value));
  }

  /**
   * At checkpoint n's barrier (synchronously: the records up to the barrier are exactly `lines`),
   * then the file is written and flushed in the background. The runtime acknowledges n only once
   * the promise resolves, and keeps processing records meanwhile.
   */
  prepareCommit(checkpointId: number): Promise<LedgerState> {
    const lines = this.lines;
    this.lines = [];
    if (lines.length > 0) this.staged.push(checkpointId);
    const state: LedgerState = { subtask: this.ctx.subtaskIndex, staged: [...this.staged] };
    if (lines.length === 0) return Promise.resolve(state);
    return (async () => {
      await mkdir(this.dir, { recursive: true });
      const file = await open(join(this.dir, pendingName(this.ctx.uid, this.ctx.subtaskIndex, checkpointId)), 'w');
      try {
        await file.writeFile(`${lines.join('\n')}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      return state;
    })();
  }

  /** Checkpoint n completed everywhere: publish what was staged up to n (a rename: atomic). */
  commit(checkpointId: number): void {
    for (const n of this.staged.filter((s) => s <= checkpointId)) this.publish(this.ctx.subtaskIndex, n);
    this.staged = this.staged.filter((s) => s > checkpointId);
  }

  /**
   * After a restore from checkpoint n: publish what n's subtasks staged (each old subtask's files go
   * to one new subtask), delete the pending files of later checkpoints (their records are read again).
   */
  recover(states: readonly unknown[]): void {
    states.forEach((state, i) => {
      const problem = ledgerStateProblem(state);
      if (problem) throw new HostileCheckpointError(`state of sink '${this.ctx.uid}'`, undefined, `states[${i}]${problem.field}`, problem.value, problem.expected);
    });
    const owner = (subtask: number) => (subtask < this.ctx.parallelism ? subtask : 0);
    for (const state of states as (LedgerState | undefined)[]) {
      if (state && owner(state.subtask) === this.ctx.subtaskIndex) for (const n of state.staged) this.publish(state.subtask, n);
    }
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    const mine = new RegExp(`^\\.pending-${this.ctx.uid.replace(/[^A-Za-z0-9]/g, '\\$&')}-(\\d+)-\\d+\\.jsonl$`);
    for (const name of names) {
      const match = mine.exec(name);
      if (match && owner(Number(match[1])) === this.ctx.subtaskIndex) unlinkSync(join(this.dir, name));
    }
  }

  /** Normal end. With checkpointing on, the final checkpoint staged and committed everything. */
  async finish(): Promise<void> {
    const last = Number.MAX_SAFE_INTEGER;
    if (this.lines.length > 0) await this.prepareCommit(last);
    this.commit(last);
  }

  /** Failure or cancel: drop what is not staged; staged files stay for a restore. */
  abort(): void {
    this.lines = [];
  }

  private publish(subtask: number, checkpointId: number): void {
    renameIfThere(join(this.dir, pendingName(this.ctx.uid, subtask, checkpointId)), join(this.dir, ledgerName(this.ctx.uid, subtask, checkpointId)));
  }
}

/**
 * Appends records (as JSON lines) to ledger files in `dir`, exactly once: a file appears only when
 * the checkpoint that covers its records completed.
 *
 * @example stream.sinkTo(ledger({ dir: './ledger' })).uid('ledger');
 */
export function ledger<T>(options: LedgerOptions): Sink<T> {
  return {
    kind: 'ledger',
    validate() {
      if (typeof options?.dir !== 'string' || options.dir === '') throw new JobConfigError('ledger dir', 'must be a directory path');
    },
    createWriter: (ctx) => new LedgerWriter<T>(resolve(options.dir), ctx),
    checkRestoredState: ledgerStateProblem,
  };
}
