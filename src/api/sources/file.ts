// Sources.file: newline-delimited text from a file or a directory of files, read as byte-range splits.
import { accessSync, closeSync, constants, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HostileCheckpointError } from '../../checkpoint/index.ts';
import { isConfiguredPath, isStoredIndex, type StoredValueProblem, storedCheck } from '../../checkpoint/restore/stored-values.ts';
import { JobConfigError, rejectUnknownKeys } from '../../runtime/index.ts';
import { NO_TIMESTAMP } from '../../runtime/types.ts';
import type { Source, SourceReader, SourceReaderContext, SourceSplit } from '../../runtime/types.ts';
import { numericOffset } from './offsets.ts';

export interface FileSourceOptions {
  /** A file, or a directory whose regular files (not recursive) are read in name order. */
  readonly path: string;
  /** Size of the byte ranges files are cut into for parallel reading; default 8 MiB. */
  readonly splitBytes?: number;
}

/**
 * The bytes [start, end) of one file. The split owns the lines whose first byte lies in that
 * range; `offset` is the byte position of the next line to read.
 */
export interface FileSplit extends SourceSplit {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly offset: number;
}

export const DEFAULT_SPLIT_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
// Below this much free space the buffer grows instead, so a long line is not read in slivers.
const MIN_READ_BYTES = 16 * 1024;
const LF = 0x0a;
const CR = 0x0d;

function isFileSplit(split: SourceSplit): split is FileSplit {
  const s = split as Partial<FileSplit>;
  return (
    typeof s.path === 'string' &&
    Number.isSafeInteger(s.start) &&
    Number.isSafeInteger(s.end) &&
    Number.isSafeInteger(s.offset)
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The files a path stands for, absolute and sorted by name so every thread agrees. */
function listFiles(path: string): string[] {
  const absolute = resolve(path);
  if (!statSync(absolute).isDirectory()) return [absolute];
  return readdirSync(absolute)
    .sort()
    .map((name) => join(absolute, name))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile() === true);
}

class FileReader implements SourceReader<string> {
  finished: boolean;
  private readonly id: string;
  private readonly path: string;
  private readonly start: number;
  private readonly end: number;
  private offset: number;
  /** A fresh split not at the file's start begins mid-line: the partial line is another split's. */
  private needsSkip: boolean;
  private fd = -1;
  private buf: Buffer | undefined;
  /** File position of buf[0]. */
  private bufPos = 0;
  /** Bytes of buf holding file data. */
  private filled = 0;
  /** Index in buf to search for the next '\n' from: bytes before it are known to hold none. */
  private scan = 0;
  private eof = false;

  constructor(split: FileSplit) {
    this.id = split.id;
    this.path = split.path;
    this.start = split.start;
    this.end = split.end;
    this.offset = split.offset;
    // A resumed offset is always a line start. If it equals start, skipping again is harmless:
    // it only stays at start when the byte before start is '\n', which is the case then.
    this.needsSkip = split.offset === split.start && split.start > 0;
    this.finished = split.offset >= split.end;
  }

  poll(max: number, emit: (value: string, timestamp: number) => void): number {
    if (this.finished || max <= 0) return 0;
    if (this.fd < 0) this.open();
    if (this.needsSkip && !this.skipPartialLine()) {
      this.offset = this.end;
      this.finish();
      return 0;
    }
    let count = 0;
    while (count < max) {
      if (this.offset >= this.end) {
        this.finish();
        break;
      }
      let buf = this.buf!;
      const lineAt = this.offset - this.bufPos;
      let nl = this.scan < this.filled ? buf.indexOf(LF, this.scan) : -1;
      // indexOf also sees stale bytes past `filled`.
      if (nl >= this.filled) nl = -1;
      if (nl < 0) {
        this.scan = this.filled;
        if (!this.eof && this.fill(lineAt)) continue;
        // The last line of a file need not end with '\n'.
        const rest = this.filled - (this.offset - this.bufPos);
        if (rest > 0) {
          buf = this.buf!;
          const from = this.offset - this.bufPos;
          let to = this.filled;
          if (buf[to - 1] === CR) to--;
          this.offset += rest;
          count++;
          emit(buf.toString('utf8', from, to), NO_TIMESTAMP);
        }
        this.finish();
        break;
      }
      let to = nl;
      if (to > lineAt && buf[to - 1] === CR) to--;
      this.offset = this.bufPos + nl + 1;
      this.scan = nl + 1;
      count++;
      emit(buf.toString('utf8', lineAt, to), NO_TIMESTAMP);
    }
    return count;
  }

  currentSplit(): FileSplit {
    return { id: this.id, path: this.path, start: this.start, end: this.end, offset: this.offset };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private open(): void {
    this.fd = openSync(this.path, 'r');
    if (this.buf === undefined) {
      this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
      this.bufPos = this.offset;
      this.filled = 0;
      this.scan = 0;
    }
  }

  private finish(): void {
    this.finished = true;
    this.buf = undefined;
    this.close();
  }

  /**
   * Moves to just after the first '\n' at or after start - 1. Returns false when the split owns
   * no line, i.e. that '\n' is missing or would start a line at or after end.
   */
  private skipPartialLine(): boolean {
    this.needsSkip = false;
    this.bufPos = this.start - 1;
    this.filled = 0;
    this.scan = 0;
    for (;;) {
      let nl = this.scan < this.filled ? this.buf!.indexOf(LF, this.scan) : -1;
      if (nl >= this.filled) nl = -1;
      if (nl >= 0) {
        this.offset = this.bufPos + nl + 1;
        this.scan = nl + 1;
        return true;
      }
      if (this.bufPos + this.filled >= this.end - 1) return false;
      this.scan = this.filled;
      // Nothing scanned so far is kept: it all belongs to the partial line.
      if (!this.fill(this.filled)) return false;
    }
  }

  /** Drops buf[0, keepFrom), reads more after what is left; false at end of file. */
  private fill(keepFrom: number): boolean {
    let buf = this.buf!;
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, this.filled);
      this.bufPos += keepFrom;
      this.filled -= keepFrom;
      this.scan -= keepFrom;
    }
    if (buf.length - this.filled < MIN_READ_BYTES) {
      const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, this.filled + CHUNK_BYTES));
      buf.copy(bigger, 0, 0, this.filled);
      this.buf = buf = bigger;
    }
    const n = readSync(this.fd, buf, this.filled, buf.length - this.filled, this.bufPos + this.filled);
    if (n === 0) {
      this.eof = true;
      return false;
    }
    this.filled += n;
    return true;
  }
}

/**
 * The first way `split` (read back from a checkpoint) is not a split of the configured `path`, or
 * undefined: its path must be that file, or a file directly in that directory, exactly as
 * createSplits writes it (absolute, normalized); its offsets non-negative integers in order.
 *
 * @example fileSplitProblem({ id: '/in/a@0', path: '/etc/passwd', start: 0, end: 9, offset: 0 }, { files: ['/in/a'], dirs: [] })?.field // '.path'
 */
export function fileSplitProblem(split: unknown, configured: { readonly files: readonly string[]; readonly dirs: readonly string[] }): StoredValueProblem | undefined {
  if (typeof split !== 'object' || split === null || Array.isArray(split)) return storedCheck('', false, 'a file split { id, path, start, end, offset }', split);
  const s = split as Record<string, unknown>;
  const where = [...configured.files, ...configured.dirs.map((d) => `${d}/<name>`)].join(', ');
  return (
    storedCheck('.id', typeof s.id === 'string', 'a string', s.id) ??
    storedCheck('.path', isConfiguredPath(s.path, configured), `a path this job reads (${where})`, s.path) ??
    storedCheck('.start', isStoredIndex(s.start), 'a non-negative integer', s.start) ??
    storedCheck('.end', isStoredIndex(s.end) && (s.end as number) >= (s.start as number), 'an integer not below start', s.end) ??
    storedCheck('.offset', isStoredIndex(s.offset) && (s.offset as number) >= (s.start as number), 'an integer not below start', s.offset)
  );
}

class FileSource implements Source<string> {
  readonly kind = 'file';
  private readonly options: FileSourceOptions;

  constructor(options: FileSourceOptions) {
    this.options = options;
  }

  /** The file, or the directory whose files, this source was configured to read. */
  private configured(): { files: string[]; dirs: string[] } {
    const absolute = resolve(this.options.path);
    return statSync(absolute, { throwIfNoEntry: false })?.isDirectory() ? { files: [], dirs: [absolute] } : { files: [absolute], dirs: [] };
  }

  checkRestoredSplit(split: unknown): StoredValueProblem | undefined {
    return fileSplitProblem(split, this.configured());
  }

  validate(): void {
    const options: Partial<FileSourceOptions> | undefined = this.options;
    if (typeof options !== 'object' || options === null) {
      throw new JobConfigError('Sources.file options', 'expected an object { path, splitBytes? }');
    }
    rejectUnknownKeys('Sources.file ', options, ['path', 'splitBytes']);
    const { path, splitBytes } = options;
    if (typeof path !== 'string' || path === '') {
      throw new JobConfigError('Sources.file path', 'must be a non-empty string');
    }
    let readable = true;
    try {
      const stats = statSync(path);
      if (stats.isDirectory()) {
        accessSync(path, constants.R_OK | constants.X_OK);
        for (const file of listFiles(path)) accessSync(file, constants.R_OK);
      } else if (stats.isFile()) {
        accessSync(path, constants.R_OK);
      } else {
        readable = false;
      }
    } catch (error) {
      throw new JobConfigError('Sources.file path', `cannot read '${path}': ${message(error)}`);
    }
    if (!readable) throw new JobConfigError('Sources.file path', `cannot read '${path}': '${path}' is neither a regular file nor a directory`);
    if (splitBytes !== undefined && (typeof splitBytes !== 'number' || !Number.isSafeInteger(splitBytes) || splitBytes < 1)) {
      throw new JobConfigError('Sources.file splitBytes', `must be a positive integer, got ${String(splitBytes)}`);
    }
  }

  createSplits(_parallelism: number): FileSplit[] {
    const splitBytes = this.options.splitBytes ?? DEFAULT_SPLIT_BYTES;
    const splits: FileSplit[] = [];
    for (const path of listFiles(this.options.path)) {
      const size = statSync(path).size;
      if (size === 0) {
        splits.push({ id: `${path}@0`, path, start: 0, end: 0, offset: 0 });
        continue;
      }
      for (let start = 0; start < size; start += splitBytes) {
        const end = Math.min(size, start + splitBytes);
        splits.push({ id: `${path}@${start}`, path, start, end, offset: start });
      }
    }
    return splits;
  }

  /** Offsets are the byte position of the next line of the split's file. */
  compareOffsets(a: unknown, b: unknown): number {
    return numericOffset(a, 'Sources.file') - numericOffset(b, 'Sources.file');
  }

  createReader(split: SourceSplit, _ctx: SourceReaderContext): SourceReader<string> {
    if (!isFileSplit(split)) throw new TypeError(`Sources.file: split '${split.id}' is not a file split`);
    // Restored splits were checked by the coordinator; this guards every other way in.
    const problem = fileSplitProblem(split, this.configured());
    if (problem !== undefined) throw new HostileCheckpointError(`split '${split.id}' of Sources.file`, undefined, `split${problem.field}`, problem.value, problem.expected);
    return new FileReader(split);
  }
}

/**
 * Lines of UTF-8 text (without '\n' or '\r\n') from a file, or from every regular file of a
 * directory in name order. Large files are cut into `splitBytes` ranges read in parallel.
 *
 * @example
 * const lines = Sources.file({ path: './access.log' });
 * const many = Sources.file({ path: './logs', splitBytes: 1 << 20 });
 */
export function file(options: FileSourceOptions): Source<string> {
  return new FileSource(options);
}
