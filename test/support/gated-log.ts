// A live, replayable log for tests: splits of records whose segments the test opens (a file per segment), read by any deployment.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Source, SourceReader, SourceSplit } from 'baton';

export interface GatedLogOptions {
  /** Names the splits (`<name>-<s>`) and goes into every record. */
  readonly name: string;
  readonly splits: number;
  /** Records per split, at most (the log is unbounded in practice: a test opens fewer). */
  readonly perSplit: number;
  /** Records per segment: segment k of every split is readable once `<gate>/open-<k>` exists. */
  readonly segment: number;
  readonly gate: string;
  /**
   * A second gate of this reader only: a segment is readable once open in both. The records are
   * the same for every deployment; only when one deployment may read them differs (one lags).
   */
  readonly ownGate?: string;
}

/** One record: split `s`, index `i` in it, event time `t` (out of order by up to JITTER_MS within its split). */
export interface LogRecord {
  readonly log: string;
  readonly s: number;
  readonly i: number;
  readonly t: number;
}

/** Records of a split are out of order in event time by at most this much. */
export const JITTER_MS = 30;
/** Each split's watermark trails its highest timestamp by this much (more than JITTER_MS: no record is ever late). */
export const WATERMARK_LAG_MS = JITTER_MS + 1;
/** Event time per record index: record i is due at about i × STEP_MS. */
export const STEP_MS = 10;

/** Event time of record `i` of split `s`: about i × 10 ms, jittered deterministically by up to ±30 ms. */
export function eventTime(s: number, i: number): number {
  return i * STEP_MS + (((i * 7919 + s * 104729) % (2 * JITTER_MS + 1)) - JITTER_MS);
}

/** The watermark split `s` has emitted once it read records 0..n-1 (its highest timestamp so far, less the lag). */
export function splitWatermark(s: number, n: number): number {
  if (n <= 0) return Number.NEGATIVE_INFINITY;
  // t(i) lies within ±30 of 10 i: the highest of the first n is among the last seven.
  let high = Number.NEGATIVE_INFINITY;
  for (let i = Math.max(0, n - 7); i < n; i++) high = Math.max(high, eventTime(s, i));
  return high - WATERMARK_LAG_MS;
}

/** While nothing may be read, the reader looks again after this long (it must not hold up barriers or a hold). */
const LOCKED_RECHECK_MS = 2;

class GatedLogReader implements SourceReader<LogRecord> {
  finished: boolean;
  private next: number;
  /** The highest segment known open (segments only ever open). */
  private open = -1;
  private wait: { timer: ReturnType<typeof setTimeout>; resolve: (n: number) => void } | undefined;
  /**
   * The first poll waits: a subtask opens its next split only when every open reader waits, so
   * every split of a subtask is open (and holds the watermark back) before any is read. Without it
   * a subtask reads its first split ahead in event time and the next one's records come late.
   */
  private warm = false;

  constructor(
    private readonly id: string,
    private readonly s: number,
    offset: number,
    private readonly options: GatedLogOptions,
  ) {
    this.next = offset;
    this.finished = offset >= options.perSplit;
  }

  poll(max: number, emit: (value: LogRecord, timestamp: number) => void, emitWatermark?: (watermark: number) => void): number | Promise<number> {
    const { perSplit, segment, gate, ownGate, name } = this.options;
    if (this.next >= perSplit) {
      this.finished = true;
      return 0;
    }
    if (!this.warm) {
      this.warm = true;
      return this.later();
    }
    const k = Math.floor(this.next / segment);
    const opened = (n: number) => existsSync(join(gate, `open-${n}`)) && (ownGate === undefined || existsSync(join(ownGate, `open-${n}`)));
    while (this.open < k && opened(this.open + 1)) this.open++;
    if (this.open < k) return this.later();
    const last = Math.min(perSplit, (this.open + 1) * segment, this.next + max);
    for (let i = this.next; i < last; i++) emit({ log: name, s: this.s, i, t: eventTime(this.s, i) }, eventTime(this.s, i));
    const n = last - this.next;
    this.next = last;
    if (n > 0) emitWatermark?.(splitWatermark(this.s, this.next));
    if (this.next >= perSplit) this.finished = true;
    return n;
  }

  private later(): Promise<number> {
    return new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        this.wait = undefined;
        resolve(0);
      }, LOCKED_RECHECK_MS);
      this.wait = { timer, resolve };
    });
  }

  wakeUp(): void {
    const wait = this.wait;
    this.wait = undefined;
    if (!wait) return;
    clearTimeout(wait.timer);
    wait.resolve(0);
  }

  currentSplit(): SourceSplit {
    return { id: this.id, offset: this.next };
  }

  close(): void {
    this.wakeUp();
  }
}

/**
 * `splits` splits of `perSplit` records each; segment k of every split is readable once the test
 * created `<gate>/open-<k>`. Every deployment reading it sees the same records at the same
 * positions (a split's offset is the index of its next record), whatever its parallelism: a live
 * input two deployments can share, that a test advances on events. A split whose next segment is
 * closed waits (an idle source, if it stays closed).
 *
 * @example env.fromSource(gatedLog({ name: 'ev', splits: 4, perSplit: 10_000, segment: 100, gate: dir }), 'events')
 */
export function gatedLog(options: GatedLogOptions): Source<LogRecord> {
  return {
    kind: 'gated-log',
    validate() {},
    createSplits: () => Array.from({ length: options.splits }, (_, s) => ({ id: `${options.name}-${s}`, offset: 0 })),
    createReader(split) {
      const s = Number(split.id.slice(options.name.length + 1));
      if (typeof split.offset !== 'number' || !Number.isSafeInteger(s)) throw new TypeError(`gated log: split '${split.id}' is not one of '${options.name}'`);
      return new GatedLogReader(split.id, s, split.offset, options);
    },
    compareOffsets: (a, b) => Number(a) - Number(b),
  };
}
