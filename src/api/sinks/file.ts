// Sinks.file: part files per subtask, written under hidden names and renamed when a checkpoint covering them completes.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HostileCheckpointError } from '../../checkpoint/index.ts';
import { firstStoredProblem, isSafeSegment, isStoredIndex, type StoredValueProblem, storedCheck } from '../../checkpoint/restore/stored-values.ts';
import { BatonInternalError, InvalidRestoredStateError, JobConfigError, rejectUnknownKeys } from '../../runtime/index.ts';
import type { Sink, SinkContext, SinkWriter } from '../../runtime/types.ts';

export interface FileSinkOptions<T> {
  /** Directory the part files are written to; created if missing. */
  readonly path: string;
  /** Turns a record into one line (without '\n'); default JSON.stringify. */
  readonly format?: (record: T) => string;
}

const FLUSH_CHARS = 64 * 1024;

/**
 * Keeps a uid usable as part of a file name on every platform.
 *
 * @example
 * sanitizeForFileName('word count/v2'); // 'word_count_v2'
 */
export function sanitizeForFileName(uid: string): string {
  return uid.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * The names of part file `seq` of a subtask: visible, in progress, and staged for a checkpoint.
 *
 * @example
 * partFileNames('counts', 3); // { visible: 'part-counts-3-0', inProgress: '.part-counts-3-0.inprogress', pending: '.part-counts-3-0.pending' }
 */
export function partFileNames(uid: string, subtaskIndex: number, seq = 0): { visible: string; inProgress: string; pending: string } {
  const visible = `part-${sanitizeForFileName(uid)}-${subtaskIndex}-${seq}`;
  return { visible, inProgress: `.${visible}.inprogress`, pending: `.${visible}.pending` };
}

// undefined (or a function) has no JSON text; as in JSON arrays, it becomes null so every
// record still yields one parseable line.
function toJsonLine(record: unknown): string {
  return JSON.stringify(record) ?? 'null';
}

/** What a file sink subtask saves in a checkpoint: part files staged and not yet committed. */
export interface FileSinkState {
  readonly subtaskIndex: number;
  readonly staged: ReadonlyArray<{ readonly checkpointId: number; readonly seqs: readonly number[] }>;
}

/**
 * The first way `state` (read back from a checkpoint) is not a FileSinkState this sink wrote, or
 * undefined. Part-file names are built from these numbers, so only non-negative integers pass:
 * a crafted `subtaskIndex: 'X/../../victim'` must never reach a rename.
 *
 * @example fileSinkStateProblem({ subtaskIndex: 0, staged: [{ checkpointId: 3, seqs: [0] }] }) // undefined
 */
export function fileSinkStateProblem(state: unknown): StoredValueProblem | undefined {
  // A subtask that never staged anything may have saved no state.
  if (state === undefined || state === null) return undefined;
  if (typeof state !== 'object' || Array.isArray(state)) return storedCheck('', false, 'a file sink state { subtaskIndex, staged }', state);
  const s = state as Record<string, unknown>;
  const problem =
    storedCheck('.subtaskIndex', isStoredIndex(s.subtaskIndex), 'a subtask index (a non-negative integer)', s.subtaskIndex) ??
    storedCheck('.staged', Array.isArray(s.staged), 'an array of { checkpointId, seqs }', s.staged);
  if (problem !== undefined) return problem;
  const staged = firstStoredProblem(s.staged as unknown[], (entry) => {
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null) return storedCheck('', false, '{ checkpointId, seqs }', entry);
    return (
      storedCheck('.checkpointId', isStoredIndex(e.checkpointId), 'a checkpoint id (a non-negative integer)', e.checkpointId) ??
      storedCheck('.seqs', Array.isArray(e.seqs), 'an array of part-file sequence numbers', e.seqs) ??
      prefixed('.seqs', firstStoredProblem(e.seqs as unknown[], (seq) => storedCheck('', isStoredIndex(seq), 'a part-file sequence number (a non-negative integer)', seq)))
    );
  });
  return prefixed('.staged', staged);
}

const prefixed = (field: string, problem: StoredValueProblem | undefined): StoredValueProblem | undefined =>
  problem === undefined ? undefined : { ...problem, field: `${field}${problem.field}` };

/** Throws when a part-file name (built from restored state) is not a single name of this sink's pattern. */
function assertOwnPartName(name: string, uid: string): string {
  const pattern = new RegExp(`^\\.?part-${sanitizeForFileName(uid).replace(/[.]/g, '\\.')}-\\d+-\\d+(\\.pending|\\.inprogress)?$`);
  if (!isSafeSegment(name, pattern)) throw new InvalidRestoredStateError(uid, `Sinks.file: refusing part file name ${JSON.stringify(name)}: not a single name of this sink's pattern`);
  return name;
}

type WriterState = 'open' | 'finished' | 'aborted';

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Two-phase commit on a directory: records go to a hidden in-progress file; at checkpoint n
 * the file is closed and renamed to a hidden `.pending` name recorded in the checkpoint; when
 * n completes it is renamed to its visible name. Renames are atomic, so a reader of the
 * directory only ever sees committed, complete files.
 */
class FileSinkWriter<T> implements SinkWriter<T> {
  private fd = -1;
  private pending = '';
  private state: WriterState = 'open';
  private seq = 0;
  private staged: Array<{ checkpointId: number; seqs: number[] }> = [];
  private readonly prefix: string;

  constructor(
    private readonly dir: string,
    private readonly uid: string,
    private readonly subtaskIndex: number,
    private readonly parallelism: number,
    private readonly format: (record: T) => string,
  ) {
    this.prefix = `part-${sanitizeForFileName(uid)}-`;
    this.seq = this.nextFreeSeq();
  }

  write(value: T, _timestamp: number): void {
    if (this.state !== 'open') throw new BatonInternalError(`Sinks.file: write after ${this.state} (${this.dir})`);
    // String concatenation builds a rope; writeSync flattens it once per flush.
    this.pending += `${this.format(value)}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  prepareCommit(checkpointId: number): FileSinkState {
    if (this.state === 'open' && (this.fd >= 0 || this.pending.length > 0)) {
      this.closeCurrent();
      const names = this.names(this.seq);
      renameSync(join(this.dir, names.inProgress), join(this.dir, names.pending));
      this.staged.push({ checkpointId, seqs: [this.seq] });
      this.seq++;
    }
    return { subtaskIndex: this.subtaskIndex, staged: this.staged.map((s) => ({ checkpointId: s.checkpointId, seqs: [...s.seqs] })) };
  }

  commit(checkpointId: number): void {
    const ready = this.staged.filter((s) => s.checkpointId <= checkpointId);
    if (ready.length === 0) return;
    for (const entry of ready) for (const seq of entry.seqs) this.publish(this.subtaskIndex, seq);
    this.staged = this.staged.filter((s) => s.checkpointId > checkpointId);
  }

  /**
   * After a restore from checkpoint n: what n staged (by any old subtask) is committed, since n
   * completed; hidden files this subtask (or, for subtask 0, any old subtask beyond the new
   * parallelism) left behind belong to later, never completed checkpoints and are deleted.
   */
  recover(states: readonly unknown[]): void {
    // Every state is checked before any file is touched (the coordinator checked them too).
    states.forEach((raw, i) => {
      const problem = fileSinkStateProblem(raw);
      if (problem !== undefined) {
        throw new HostileCheckpointError(`state of sink '${this.uid}'`, undefined, `states[${i}]${problem.field}`, problem.value, problem.expected);
      }
    });
    for (const raw of states) {
      const state = raw as FileSinkState | undefined;
      if (!state) continue;
      const owner = state.subtaskIndex < this.parallelism ? state.subtaskIndex : 0;
      if (owner !== this.subtaskIndex) continue;
      for (const entry of state.staged) for (const seq of entry.seqs) this.publish(state.subtaskIndex, seq);
    }
    for (const name of this.listOwnFiles()) {
      if (name.file.startsWith('.')) unlinkIfPresent(join(this.dir, name.file));
    }
    this.seq = this.nextFreeSeq();
  }

  /**
   * The subtask ended normally. With checkpointing on this runs after the final checkpoint, which
   * staged and committed everything, so nothing is left; without checkpointing the tail is
   * published here (no exactly-once promise across failures then).
   */
  finish(): void {
    if (this.state !== 'open') return;
    if (this.fd >= 0 || this.pending.length > 0) {
      this.closeCurrent();
      const names = this.names(this.seq);
      renameSync(join(this.dir, names.inProgress), join(this.dir, names.visible));
      this.seq++;
    }
    // Without checkpointing nothing is ever staged; with it, the final checkpoint committed it all.
    for (const entry of this.staged) for (const seq of entry.seqs) this.publish(this.subtaskIndex, seq);
    this.staged = [];
    this.state = 'finished';
  }

  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.pending = '';
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    // Staged files stay: a restore of the checkpoint that staged them commits them.
    unlinkIfPresent(join(this.dir, this.names(this.seq).inProgress));
  }

  private names(seq: number) {
    return partFileNames(this.uid, this.subtaskIndex, seq);
  }

  private publish(subtaskIndex: number, seq: number): void {
    const names = partFileNames(this.uid, subtaskIndex, seq);
    // Only ever a rename inside this sink's own directory.
    renameIfPresent(join(this.dir, assertOwnPartName(names.pending, this.uid)), join(this.dir, assertOwnPartName(names.visible, this.uid)));
  }

  private closeCurrent(): void {
    this.flush();
    // fsync before the rename: a visible part file must never be a truncated one, even after a crash.
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Part files of this sink that this subtask is responsible for, with their sequence numbers. */
  private listOwnFiles(): Array<{ file: string; seq: number }> {
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const own: Array<{ file: string; seq: number }> = [];
    for (const file of files) {
      const bare = file.startsWith('.') ? file.slice(1).replace(/\.(inprogress|pending)$/, '') : file;
      if (!bare.startsWith(this.prefix)) continue;
      const match = /^(\d+)-(\d+)$/.exec(bare.slice(this.prefix.length));
      if (!match) continue;
      const subtask = Number(match[1]);
      const owner = subtask < this.parallelism ? subtask : 0;
      if (owner === this.subtaskIndex) own.push({ file, seq: Number(match[2]) });
    }
    return own;
  }

  // Sequence numbers continue after every file this subtask ever wrote, so no restart overwrites one.
  private nextFreeSeq(): number {
    let next = 0;
    for (const f of this.listOwnFiles()) {
      if (f.file.includes(`-${this.subtaskIndex}-`) && f.seq >= next) next = f.seq + 1;
    }
    return Math.max(next, this.seq);
  }

  private flush(): void {
    if (this.fd < 0) {
      mkdirSync(this.dir, { recursive: true });
      // 'w' truncates what a crashed earlier attempt may have left under the same name.
      this.fd = openSync(join(this.dir, this.names(this.seq).inProgress), 'w');
    }
    if (this.pending.length > 0) {
      writeSync(this.fd, this.pending);
      this.pending = '';
    }
  }
}

/**
 * Writes each record as one line (`format(record)`, default JSON) to the directory `path`:
 * subtask i of sink `uid` writes `part-<uid>-<i>-<seq>`. Exactly once: until a file is
 * committed (a checkpoint covering it completed: at the end of bounded input, the job's final
 * checkpoint; without checkpointing, the end of input) it is hidden as
 * `.part-…inprogress` / `.part-…pending`, so readers of the directory only see committed output.
 *
 * @example
 * const out = Sinks.file<{ word: string; count: number }>({ path: './out' });
 * const csv = Sinks.file<[string, number]>({ path: './out', format: ([w, n]) => `${w},${n}` });
 */
export function file<T>(options: FileSinkOptions<T>): Sink<T> {
  return {
    kind: 'file',
    validate(): void {
      const opts: Partial<FileSinkOptions<T>> | undefined = options;
      if (typeof opts !== 'object' || opts === null) {
        throw new JobConfigError('Sinks.file options', 'expected an object { path, format? }');
      }
      rejectUnknownKeys('Sinks.file ', opts, ['path', 'format']);
      const { path, format } = opts;
      if (typeof path !== 'string' || path === '') {
        throw new JobConfigError('Sinks.file path', 'must be a non-empty string');
      }
      const stats = statSync(path, { throwIfNoEntry: false });
      if (stats !== undefined && !stats.isDirectory()) {
        throw new JobConfigError('Sinks.file path', `'${path}' exists and is not a directory`);
      }
      if (format !== undefined && typeof format !== 'function') {
        throw new JobConfigError('Sinks.file format', 'must be a function (record) => string');
      }
    },
    createWriter(ctx: SinkContext): SinkWriter<T> {
      const format: (record: T) => string = options.format ?? toJsonLine;
      return new FileSinkWriter<T>(resolve(options.path), ctx.uid, ctx.subtaskIndex, ctx.parallelism, format);
    },
    checkRestoredState: fileSinkStateProblem,
  };
}
