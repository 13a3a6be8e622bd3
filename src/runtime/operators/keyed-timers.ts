// Event-time and processing-time timers of one keyed operator subtask.
import { TimerQueue } from '../../state/index.ts';
import type { KeyValue } from '../../state/index.ts';
import { keyGroupFor, keyGroupRangeContains } from '../../state/index.ts';
import type { OperatorContext } from '../types.ts';

/** Timers saved in a checkpoint by a keyed operator subtask. */
export interface TimersSnapshot {
  readonly timers: ReadonlyArray<readonly [KeyValue, number, TimerDomain]>;
}

/** Restores the timers of every old subtask whose key now belongs to this subtask's key groups. */
export function restoreTimers(timers: KeyedTimers, ctx: OperatorContext, states: readonly unknown[]): void {
  const range = ctx.keyedState?.keyGroupRange;
  if (!range) return;
  const owns = (key: KeyValue) => keyGroupRangeContains(range, keyGroupFor(key, ctx.maxParallelism));
  for (const state of states) {
    const saved = (state as TimersSnapshot | undefined)?.timers;
    if (Array.isArray(saved)) timers.restore(saved, owns);
  }
}

export type TimerDomain = 'event-time' | 'processing-time';
export type FireTimer = (key: KeyValue, timestamp: number, domain: TimerDomain) => void;

export class KeyedTimers {
  private readonly eventTimers = new TimerQueue();
  private readonly processingTimers = new TimerQueue();
  private watermark = Number.NEGATIVE_INFINITY;
  private cancelScheduled: (() => void) | undefined;
  private scheduledAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly fire: FireTimer,
  ) {}

  currentWatermark(): number {
    return this.watermark;
  }

  registerEventTime(key: KeyValue, timestamp: number): void {
    this.eventTimers.register(key, timestamp);
  }

  deleteEventTime(key: KeyValue, timestamp: number): void {
    this.eventTimers.delete(key, timestamp);
  }

  registerProcessingTime(key: KeyValue, timestamp: number): void {
    this.processingTimers.register(key, timestamp);
    if (timestamp < this.scheduledAt) this.schedule(timestamp);
  }

  deleteProcessingTime(key: KeyValue, timestamp: number): void {
    this.processingTimers.delete(key, timestamp);
  }

  /**
   * Fires every event-time timer at or before the watermark, in timestamp order. On the final
   * watermark only the timers pending at that moment fire: a timer that re-registers itself
   * (`ts + period`) would otherwise be due forever.
   */
  advanceWatermark(watermark: number): void {
    this.watermark = watermark;
    if (watermark === Number.POSITIVE_INFINITY) {
      this.fireSnapshot(this.eventTimers, 'event-time');
      return;
    }
    for (let t = this.eventTimers.pollDue(watermark); t; t = this.eventTimers.pollDue(watermark)) {
      this.fire(t.key, t.timestamp, 'event-time');
    }
  }

  /**
   * At the end of bounded input every pending processing-time timer fires at once, in order:
   * a bounded job then gives the same output however fast it ran (a choice; Flink drops them).
   */
  fireAllProcessingTimers(): void {
    this.unschedule();
    this.fireSnapshot(this.processingTimers, 'processing-time');
  }

  /** Fires, once and in order, exactly the timers pending now; ones registered meanwhile stay pending. */
  private fireSnapshot(queue: TimerQueue, domain: TimerDomain): void {
    const pending: Array<{ key: KeyValue; timestamp: number }> = [];
    for (let t = queue.pollDue(Number.POSITIVE_INFINITY); t; t = queue.pollDue(Number.POSITIVE_INFINITY)) pending.push(t);
    for (const t of pending) this.fire(t.key, t.timestamp, domain);
  }

  /** Every pending timer, for a checkpoint: [key, timestamp, domain]. */
  snapshot(): Array<[KeyValue, number, TimerDomain]> {
    return [
      ...this.eventTimers.entries().map((t): [KeyValue, number, TimerDomain] => [t.key, t.timestamp, 'event-time']),
      ...this.processingTimers.entries().map((t): [KeyValue, number, TimerDomain] => [t.key, t.timestamp, 'processing-time']),
    ];
  }

  /** Re-registers restored timers whose key belongs to this subtask (`owns`). */
  restore(timers: ReadonlyArray<readonly [KeyValue, number, TimerDomain]>, owns: (key: KeyValue) => boolean): void {
    for (const [key, timestamp, domain] of timers) {
      if (!owns(key)) continue;
      if (domain === 'event-time') this.registerEventTime(key, timestamp);
      else this.registerProcessingTime(key, timestamp);
    }
  }

  pendingTimers(): number {
    return this.eventTimers.size + this.processingTimers.size;
  }

  dispose(): void {
    this.unschedule();
  }

  private schedule(at: number): void {
    this.unschedule();
    this.scheduledAt = at;
    this.cancelScheduled = this.ctx.scheduleProcessingTime(at, () => this.onProcessingTime());
  }

  private unschedule(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
    this.scheduledAt = Number.POSITIVE_INFINITY;
  }

  private onProcessingTime(): void {
    this.cancelScheduled = undefined;
    this.scheduledAt = Number.POSITIVE_INFINITY;
    // Re-read, not the time it was scheduled for: the wall clock may fire a little early or late,
    // and whatever else fell due by now fires in this same callback.
    const now = this.ctx.currentProcessingTime();
    for (let t = this.processingTimers.pollDue(now); t; t = this.processingTimers.pollDue(now)) {
      this.fire(t.key, t.timestamp, 'processing-time');
    }
    const next = this.processingTimers.peekTimestamp();
    if (next !== undefined) this.schedule(next);
  }
}
