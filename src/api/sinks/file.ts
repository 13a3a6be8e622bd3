// Sinks.file: one part file per subtask, written under a hidden in-progress name and renamed on finish.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JobConfigError } from '../../runtime/errors.ts';
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
 * The visible and in-progress names of a subtask's part file.
 *
 * @example
 * partFileNames('counts', 3); // { visible: 'part-counts-3-0', inProgress: '.part-counts-3-0.inprogress' }
 */
export function partFileNames(uid: string, subtaskIndex: number): { visible: string; inProgress: string } {
  const visible = `part-${sanitizeForFileName(uid)}-${subtaskIndex}-0`;
  return { visible, inProgress: `.${visible}.inprogress` };
}

// undefined (or a function) has no JSON text; as in JSON arrays, it becomes null so every
// record still yields one parseable line.
function toJsonLine(record: unknown): string {
  return JSON.stringify(record) ?? 'null';
}

type WriterState = 'open' | 'finished' | 'aborted';

class FileSinkWriter<T> implements SinkWriter<T> {
  private readonly dir: string;
  private readonly inProgressPath: string;
  private readonly visiblePath: string;
  private readonly format: (record: T) => string;
  private fd = -1;
  private pending = '';
  private state: WriterState = 'open';

  constructor(dir: string, uid: string, subtaskIndex: number, format: (record: T) => string) {
    const names = partFileNames(uid, subtaskIndex);
    this.dir = dir;
    this.inProgressPath = join(dir, names.inProgress);
    this.visiblePath = join(dir, names.visible);
    this.format = format;
  }

  write(value: T, _timestamp: number): void {
    if (this.state !== 'open') throw new Error(`Sinks.file: write after ${this.state} (${this.visiblePath})`);
    // String concatenation builds a rope; writeSync flattens it once per flush.
    this.pending += `${this.format(value)}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  finish(): void {
    if (this.state !== 'open') return;
    this.flush();
    // fsync before the rename: a visible part file must never be a truncated one, even after a crash.
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.inProgressPath, this.visiblePath);
    this.state = 'finished';
  }

  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.pending = '';
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.inProgressPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private flush(): void {
    if (this.fd < 0) {
      mkdirSync(this.dir, { recursive: true });
      // 'w' truncates what a crashed earlier attempt may have left under the same name.
      this.fd = openSync(this.inProgressPath, 'w');
    }
    if (this.pending.length > 0) {
      writeSync(this.fd, this.pending);
      this.pending = '';
    }
  }
}

/**
 * Writes each record as one line (`format(record)`, default JSON) to the directory `path`:
 * subtask i of sink `uid` writes `part-<uid>-<i>-0`. Until the subtask finishes the file is
 * named `.part-<uid>-<i>-0.inprogress`, so readers of the directory only see complete files.
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
      return new FileSinkWriter<T>(resolve(options.path), ctx.uid, ctx.subtaskIndex, format);
    },
  };
}
