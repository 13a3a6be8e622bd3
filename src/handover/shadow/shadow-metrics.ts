// What a shadow deployment measured, kept as it happens and given out as HandoverMetrics (mode 'shadow').
import type { HandoverMetrics, ShadowMetrics, ShadowSample } from '../../runtime/index.ts';
import type { GuardAnswer } from '../protocol/index.ts';
import { initialHandoverMetrics } from '../successor/initial-metrics.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The figures of one shadow deployment: stage 1, the time in SHADOW (the overlap with the
 * running deployment), the guard's verdict, the hold, the cut and the first live record.
 *
 * @example const recorder = new ShadowMetricsRecorder(runId); recorder.shadowStarted(Date.now()); recorder.snapshot().shadow?.shadowAt
 */
export class ShadowMetricsRecorder {
  private readonly m: Mutable<HandoverMetrics>;
  private readonly s: Mutable<ShadowMetrics> = { bootstrapCheckpoint: undefined, shadowRecords: 0 };

  constructor(runId: string) {
    this.m = { ...initialHandoverMetrics(runId, 'when-ready'), mode: 'shadow' };
  }

  get bootstrap(): number | undefined {
    return this.s.bootstrapCheckpoint;
  }

  hooks(ms: number): void {
    this.m.hookMs = ms;
  }

  stage1(checkpointId: number, ms: number, bytes: number): void {
    this.m.stage1Checkpoint = checkpointId;
    this.s.bootstrapCheckpoint = checkpointId;
    this.m.stage1Ms = ms;
    this.m.stage1Bytes = bytes;
  }

  shadowStarted(at: number): void {
    this.s.shadowAt = at;
  }

  promoteAsked(at: number): void {
    this.s.promoteAt ??= at;
  }

  sampled(samples: readonly ShadowSample[]): void {
    this.s.shadowRecords = samples.reduce((n, s) => n + s.total, 0);
  }

  guard(answer: GuardAnswer, ms: number): void {
    this.s.guard = answer.kind === 'promote' ? { verdict: 'promote', ms } : answer.kind === 'refused' ? { verdict: 'refused', reason: answer.reason, ms } : { verdict: 'timeout', ms };
  }

  held(at: number): void {
    this.s.heldAt = at;
  }

  /** The cut at A's stop checkpoint `id`; `lastRecordAt`: A's last record before it. */
  cut(id: number, at: number, lastRecordAt: number | undefined): void {
    this.s.cutCheckpoint = id;
    this.s.cutAt = at;
    this.m.targetCheckpoint = id;
    this.m.lastRecordAt = lastRecordAt;
    if (this.s.shadowAt !== undefined) {
      this.s.overlapMs = at - this.s.shadowAt;
      this.m.waitMs = at - this.s.shadowAt;
    }
  }

  firstLiveRecord(at: number): void {
    this.s.firstLiveRecordAt = at;
    this.m.firstRecordAt = at;
    if (this.m.lastRecordAt !== undefined) {
      this.s.liveGapMs = at - this.m.lastRecordAt;
      this.m.downtimeMs = this.s.liveGapMs;
    }
  }

  outcome(outcome: 'target' | 'refused'): void {
    if (outcome === 'target') this.m.outcome = 'target';
  }

  snapshot(): HandoverMetrics {
    return { ...this.m, moves: [], shadow: { ...this.s, ...(this.s.guard ? { guard: { ...this.s.guard } } : {}) } };
  }
}
