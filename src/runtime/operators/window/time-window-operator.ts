// Event-time and processing-time windows (tumbling, sliding, session) with allowed lateness and a late-data side output.
import { JobConfigError, MissingTimestampError } from '../../errors.ts';
import type { KeyedStateBackend, KeyValue, MapState } from '../../../state/index.ts';
import { NO_TIMESTAMP, type KeySelector, type OperatorContext, type OperatorFactory, type OperatorMetrics, type Output } from '../../types.ts';
import { requireKeyedState } from '../keyed-process.ts';
import type { TimersSnapshot } from '../keyed-timers.ts';
import { userFailure } from '../operator-failure.ts';
import { TimerOperator } from '../timer-operator.ts';
import { mergeIntoSessions } from './assign.ts';
import type { TimeWindow, WindowAssigner } from './types.ts';
import type { WindowContents } from './window-contents.ts';
import { WindowEmitter, type WindowFunction } from './window-emitter.ts';

/** Everything a time window operator is built from (the api assembles it). */
export interface TimeWindowSpec<T, K extends KeyValue> {
  readonly assigner: WindowAssigner<T>;
  readonly contents: WindowContents<T, unknown, unknown>;
  readonly fn: WindowFunction<K, TimeWindow>;
  readonly keySelector: KeySelector<T>;
  /** Event time only: how long after a window's end it keeps its contents and fires again for late records. */
  readonly allowedLatenessMs: number;
  /** Id of the side output that gets records too late for every window (else they are dropped and counted). */
  readonly lateDataTag?: string;
}

/** The operator's non-keyed state: its timers and the watermark it had reached. */
interface WindowOperatorSnapshot extends TimersSnapshot {
  readonly watermark?: number;
}

/**
 * Windows of one keyed operator subtask, with Flink's semantics: a window fires when the
 * watermark (or processing time) reaches `end - 1`; its contents stay until `end - 1 + allowed
 * lateness`, and each record arriving in that time fires it again with the updated contents; a
 * record too late for every window of it goes to the late side output, or is dropped and counted.
 *
 * State: window contents in keyed MapState by window start (`contents.stateName`), session
 * windows' ends in MapState `window-sessions` (start → end), timers at fire and cleanup times.
 * A timer finds its windows from its time (fixed windows) or among the key's sessions, so a
 * timer whose window merged away fires nothing.
 */
export class TimeWindowOperator<K extends KeyValue, T> extends TimerOperator {
  private readonly state: KeyedStateBackend;
  private readonly contents: MapState<number, unknown>;
  private readonly sessions: MapState<number, number> | undefined;
  private readonly emitter: WindowEmitter<K, TimeWindow>;
  private readonly eventTime: boolean;
  private readonly sizeMs: number;
  private readonly lateness: number;
  private readonly metrics: OperatorMetrics | undefined;
  /**
   * The watermark saved in the restored checkpoint (the lowest of its subtasks'): late records
   * stay late after a restore, before the first new watermark arrives (Flink starts from none).
   */
  private restoredWatermark = Number.NEGATIVE_INFINITY;
  /** Late records dropped by this subtask (also reported in its metrics). */
  lateRecordsDropped = 0;

  constructor(
    ctx: OperatorContext,
    private readonly spec: TimeWindowSpec<T, K>,
  ) {
    super(ctx);
    this.state = requireKeyedState(ctx);
    const { assigner } = spec;
    this.eventTime = assigner.timeDomain === 'event-time';
    this.sizeMs = assigner.sizeMs ?? 0;
    if (assigner.kind === 'fixed' && !(this.sizeMs > 0)) throw new JobConfigError(`window operator '${ctx.uid}'`, 'a fixed window assigner needs sizeMs');
    this.lateness = this.eventTime ? spec.allowedLatenessMs : 0;
    this.contents = this.state.mapState<number, unknown>(spec.contents.stateName);
    const merging = assigner.kind === 'merging';
    this.sessions = merging ? this.state.mapState<number, number>('window-sessions') : undefined;
    this.emitter = new WindowEmitter<K, TimeWindow>(ctx, this.state, spec.fn, spec.contents, {
      merging,
      currentWatermark: () => this.currentWatermark(),
    });
    this.metrics = ctx.metrics;
    // Only event time has late records; the count is there (at 0) from the start.
    if (this.metrics && this.eventTime) this.metrics.lateRecordsDropped = 0;
  }

  override async open(output: Output): Promise<void> {
    this.out = output;
    await this.emitter.open(output);
  }

  currentWatermark(): number {
    return Math.max(this.timers.currentWatermark(), this.restoredWatermark);
  }

  processElement(value: unknown, timestamp: number): void {
    if (this.eventTime && timestamp === NO_TIMESTAMP) {
      throw userFailure(new MissingTimestampError('record has no event timestamp: call assignTimestampsAndWatermarks before an event-time window', this.ctx.uid), this.ctx);
    }
    const time = this.eventTime ? timestamp : this.ctx.currentProcessingTime();
    let key: K;
    let windows: readonly TimeWindow[];
    try {
      key = this.spec.keySelector(value as T) as K;
      windows = this.spec.assigner.assignWindows(value as T, time);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
    this.state.setCurrentKey(key);
    const kept = this.sessions ? this.addToSessions(key, value as T, windows, this.sessions) : this.addToWindows(key, value as T, windows);
    if (kept) return;
    if (this.spec.lateDataTag !== undefined) {
      this.out.side?.(this.spec.lateDataTag, value, timestamp);
      return;
    }
    this.lateRecordsDropped++;
    if (this.metrics) this.metrics.lateRecordsDropped = (this.metrics.lateRecordsDropped ?? 0) + 1;
  }

  /** Fixed windows: the record joins each window of it that is not late; false if all are. */
  private addToWindows(key: K, value: T, windows: readonly TimeWindow[]): boolean {
    let kept = false;
    for (const w of windows) {
      if (this.isLate(w)) continue;
      kept = true;
      const previous = this.contents.get(w.start);
      this.contents.put(w.start, this.add(previous, value));
      this.scheduleWindow(key, w, previous === undefined);
    }
    return kept;
  }

  /** Session windows: the record's window merges with the sessions it touches. */
  private addToSessions(key: K, value: T, windows: readonly TimeWindow[], sessionEnds: MapState<number, number>): boolean {
    let sessions = this.sessionsOfKey();
    let kept = false;
    for (const w of windows) {
      const { merged, absorbed } = mergeIntoSessions(sessions, w);
      // A session still in state is never late (its cleanup timer would have removed it), so only
      // a record starting a session of its own can be.
      if (absorbed.length === 0 && this.isLate(merged)) continue;
      kept = true;
      let stored: unknown;
      try {
        for (const a of absorbed) {
          const contents = this.contents.get(a.start);
          stored = stored === undefined ? contents : this.spec.contents.merge(stored, contents);
        }
      } catch (error) {
        throw userFailure(error, this.ctx);
      }
      for (const a of absorbed) {
        this.contents.remove(a.start);
        sessionEnds.remove(a.start);
      }
      this.contents.put(merged.start, this.add(stored, value));
      sessionEnds.put(merged.start, merged.end);
      sessions = [...sessions.filter((s) => !absorbed.includes(s)), merged];
      this.scheduleWindow(key, merged, true);
      for (const a of absorbed) this.releaseTimers(key, a, sessions);
    }
    return kept;
  }

  private add(stored: unknown, value: T): unknown {
    try {
      return this.spec.contents.add(stored, value);
    } catch (error) {
      throw userFailure(error, this.ctx);
    }
  }

  /**
   * A window got a record: past its end already (late, within the allowed lateness) it fires now
   * with its updated contents; otherwise a new window gets its timers.
   */
  private scheduleWindow(key: K, w: TimeWindow, isNew: boolean): void {
    const fireAt = w.end - 1;
    const cleanupAt = this.cleanupTime(w);
    if (this.eventTime && fireAt <= this.currentWatermark()) {
      this.fire(key, w);
      if (isNew) this.registerTimer(key, cleanupAt);
      return;
    }
    if (!isNew) return;
    this.registerTimer(key, fireAt);
    if (cleanupAt !== fireAt) this.registerTimer(key, cleanupAt);
  }

  /** Deletes the timers of a window merged away, unless a session still in `sessions` needs them. */
  private releaseTimers(key: K, gone: TimeWindow, sessions: readonly TimeWindow[]): void {
    for (const t of new Set([gone.end - 1, this.cleanupTime(gone)])) {
      if (sessions.some((s) => s.end - 1 === t || this.cleanupTime(s) === t)) continue;
      if (this.eventTime) this.timers.deleteEventTime(key, t);
      else this.timers.deleteProcessingTime(key, t);
    }
  }

  private registerTimer(key: K, at: number): void {
    if (this.eventTime) this.timers.registerEventTime(key, at);
    else this.timers.registerProcessingTime(key, at);
  }

  private cleanupTime(w: TimeWindow): number {
    return w.end - 1 + this.lateness;
  }

  /** Event time: the window's contents are gone by now (its cleanup time passed). */
  private isLate(w: TimeWindow): boolean {
    return this.eventTime && this.cleanupTime(w) <= this.currentWatermark();
  }

  /** The current key's sessions, by start. */
  private sessionsOfKey(): TimeWindow[] {
    const sessions: TimeWindow[] = [];
    for (const [start, end] of this.sessions!.entries()) sessions.push({ start, end });
    return sessions.sort((a, b) => a.start - b.start);
  }

  protected fireTimer(key: KeyValue, t: number): void {
    this.state.setCurrentKey(key);
    if (this.sessions) {
      for (const w of this.sessionsOfKey()) {
        if (w.end - 1 === t) this.fire(key as K, w);
        if (this.cleanupTime(w) === t) this.purge(w);
      }
      return;
    }
    const due = { start: t + 1 - this.sizeMs, end: t + 1 };
    this.fire(key as K, due);
    if (this.lateness === 0) {
      this.purge(due);
    } else {
      const start = t + 1 - this.lateness - this.sizeMs;
      this.purge({ start, end: start + this.sizeMs });
    }
  }

  /** Evaluates window `w` of the current key, if it holds anything; output records carry `end - 1`. */
  private fire(key: K, w: TimeWindow): void {
    const stored = this.contents.get(w.start);
    if (stored === undefined) return;
    this.emitter.emit(key, w, w.start, stored, w.end - 1);
  }

  /** Removes window `w` of the current key: contents, session entry, per-window state. */
  private purge(w: TimeWindow): void {
    if (!this.contents.contains(w.start)) return;
    this.contents.remove(w.start);
    this.sessions?.remove(w.start);
    this.emitter.clear(w, w.start);
  }

  override snapshotState(): WindowOperatorSnapshot {
    return { timers: this.timers.snapshot(), watermark: this.currentWatermark() };
  }

  override initializeState(states: readonly unknown[]): void {
    super.initializeState(states);
    // The lowest of the old subtasks' watermarks: every one of them had passed it.
    let watermark = Number.POSITIVE_INFINITY;
    for (const s of states) {
      const saved = (s as WindowOperatorSnapshot | undefined)?.watermark;
      watermark = Math.min(watermark, typeof saved === 'number' ? saved : Number.NEGATIVE_INFINITY);
    }
    if (states.length > 0 && Number.isFinite(watermark)) this.restoredWatermark = watermark;
  }

  /** Bounded input ended: processing-time windows fire now, in order (as processing-time timers of process functions). */
  override endInput(): void {
    this.timers.fireAllProcessingTimers();
  }

  override async close(): Promise<void> {
    this.timers.dispose();
    await this.emitter.close();
  }
}

export function timeWindowOperator<T, K extends KeyValue>(spec: TimeWindowSpec<T, K>): OperatorFactory {
  return { create: (ctx) => new TimeWindowOperator<K, T>(ctx, spec) };
}
