// "Write your own connector", part 1: a source that follows growing files (like `tail -f`), one split per
// file, its position the byte offset of the next line. Written against baton's public connector API only.
import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { JobConfigError, NO_TIMESTAMP, type Source, type SourceReader, type SourceSplit, type StoredValueProblem } from 'baton';

export interface TailOptions {
  /** The files to follow; each is one split. */
  readonly paths: readonly string[];
  /** How long a reader at the end of its file waits before it looks again (ms); default 20. */
  readonly pollMs?: number;
}

/** A line of one of the files. */
export interface TailLine {
  readonly file: string;
  readonly line: string;
}

/** Step 1, the split: which file, and where reading has got to (the offset of the next line). */
interface TailSplit extends SourceSplit {
  readonly path: string;
  readonly offset: number;
}

/** Step 2, the reader of one split. */
class TailReader implements SourceReader<TailLine> {
  // Unbounded: a followed file never ends.
  readonly finished = false;
  private offset: number;
  private pending = '';
  private wake: ((emitted: number) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reading = false;

  constructor(
    private readonly split: TailSplit,
    private readonly pollMs: number,
  ) {
    this.offset = split.offset;
  }

  /**
   * Emits up to `max` complete lines, synchronously, advancing the position line by line: a
   * checkpoint taken between two polls stores exactly what was emitted. At the end of the file it
   * returns a promise instead, and the runtime polls again once it resolves.
   */
  poll(max: number, emit: (value: TailLine, timestamp: number) => void): number | Promise<number> {
    let emitted = 0;
    while (emitted < max) {
      const newline = this.pending.indexOf('\n');
      if (newline < 0) break;
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      this.offset += Buffer.byteLength(line) + 1;
      emitted++;
      emit({ file: this.split.path, line }, NO_TIMESTAMP);
    }
    if (emitted > 0) return emitted;
    return this.readMore();
  }

  /**
   * Waits: after pollMs, reads what was appended after the buffered text, then resolves 0 (the next
   * poll emits it). One read at a time: a poll after a wake-up waits for the read already on its way.
   */
  private readMore(): Promise<number> {
    const waiting = new Promise<number>((done) => {
      this.wake = done;
    });
    if (this.timer === undefined && !this.reading) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.reading = true;
        void this.readAppended().finally(() => {
          this.reading = false;
          this.wakeUp();
        });
      }, this.pollMs);
    }
    return waiting;
  }

  private async readAppended(): Promise<void> {
    let file: FileHandle;
    try {
      file = await open(this.split.path, 'r');
    } catch {
      return; // Not there yet: look again at the next poll.
    }
    try {
      const from = this.offset + Buffer.byteLength(this.pending);
      const { size } = await file.stat();
      if (size <= from) return;
      const buffer = Buffer.alloc(size - from);
      await file.read(buffer, 0, buffer.length, from);
      // Complete lines only: a line still being written (maybe mid-character) is read next time.
      const end = buffer.lastIndexOf(0x0a) + 1;
      this.pending += buffer.toString('utf8', 0, end);
    } finally {
      await file.close();
    }
  }

  /** Step 3: the task needs its thread (a checkpoint barrier): resolve the waiting poll now. */
  wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.(0);
  }

  currentSplit(): TailSplit {
    return { id: this.split.id, path: this.split.path, offset: this.offset };
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wakeUp();
  }
}

/** Step 4, the source: options checked up front, the same splits in every thread, restored splits checked. */
class TailSource implements Source<TailLine> {
  readonly kind = 'tail';
  private readonly paths: readonly string[];

  constructor(private readonly options: TailOptions) {
    this.paths = Array.isArray(options?.paths) ? options.paths.map((p) => resolve(p)) : [];
  }

  validate(): void {
    if (this.paths.length === 0) throw new JobConfigError('tail paths', 'must list at least one file');
    if (this.options.pollMs !== undefined && !(this.options.pollMs > 0)) throw new JobConfigError('tail pollMs', 'must be a positive number');
  }

  createSplits(): TailSplit[] {
    return this.paths.map((path) => ({ id: `tail:${path}`, path, offset: 0 }));
  }

  /** A checkpoint is hostile input: only the files this job follows, at a sane offset. */
  checkRestoredSplit(split: unknown): StoredValueProblem | undefined {
    const s = split as Partial<TailSplit> | null;
    if (typeof s?.path !== 'string' || !this.paths.includes(s.path)) return { field: '.path', expected: `one of ${this.paths.join(', ')}`, value: s?.path };
    if (!Number.isSafeInteger(s.offset) || (s.offset as number) < 0) return { field: '.offset', expected: 'a non-negative integer', value: s.offset };
    return undefined;
  }

  createReader(split: SourceSplit): SourceReader<TailLine> {
    return new TailReader(split as TailSplit, this.options.pollMs ?? 20);
  }
}

/**
 * Follows files as they grow: each complete line once, exactly once across restores.
 *
 * @example env.fromSource(tail({ paths: ['./app.log'] }), 'log').map((l) => l.line);
 */
export function tail(options: TailOptions): Source<TailLine> {
  return new TailSource(options);
}
