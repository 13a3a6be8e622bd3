// Window arithmetic: tumbling starts, sliding ranges, session merging; and the api's assigners built on them.
import { describe, expect, it } from 'vitest';
import {
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '../../../../src/api/windows.ts';
import { JobConfigError } from '../../../../src/runtime/errors.ts';
import { mergeIntoSessions, slidingWindows, tumblingWindowStart, tumblingWindows, windowsIntersect } from '../../../../src/runtime/operators/window/assign.ts';
import type { TimeWindow } from '../../../../src/runtime/operators/window/types.ts';

const w = (start: number, end: number): TimeWindow => ({ start, end });

describe('tumblingWindowStart', () => {
  it('floors positive timestamps to the window size', () => {
    expect(tumblingWindowStart(0, 10, 0)).toBe(0);
    expect(tumblingWindowStart(9, 10, 0)).toBe(0);
    expect(tumblingWindowStart(10, 10, 0)).toBe(10);
    expect(tumblingWindowStart(1234, 1000, 0)).toBe(1000);
  });

  it('floors negative timestamps downwards, not towards zero', () => {
    expect(tumblingWindowStart(-1, 10, 0)).toBe(-10);
    expect(tumblingWindowStart(-10, 10, 0)).toBe(-10);
    expect(tumblingWindowStart(-11, 10, 0)).toBe(-20);
  });

  it('shifts windows by the offset', () => {
    expect(tumblingWindowStart(2, 10, 3)).toBe(-7);
    expect(tumblingWindowStart(3, 10, 3)).toBe(3);
    expect(tumblingWindowStart(12, 10, 3)).toBe(3);
    expect(tumblingWindowStart(13, 10, 3)).toBe(13);
    expect(tumblingWindowStart(-8, 10, 3)).toBe(-17);
    // an offset larger than the size is the same as offset % size
    expect(tumblingWindowStart(25, 10, 13)).toBe(tumblingWindowStart(25, 10, 3));
  });

  it('always returns a start with start <= t < start + size', () => {
    for (const size of [1, 7, 60_000]) {
      for (const offset of [0, 1, 5]) {
        for (let t = -50; t <= 50; t += 3) {
          const start = tumblingWindowStart(t, size, offset);
          expect(start).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(start + size);
          expect((((start - offset) % size) + size) % size).toBe(0);
        }
      }
    }
  });

  it('tumblingWindows is the one window of that start', () => {
    expect(tumblingWindows(61_000, 60_000, 0)).toEqual([w(60_000, 120_000)]);
  });
});

describe('slidingWindows', () => {
  it('lists every window containing the timestamp, oldest first', () => {
    expect(slidingWindows(12, 10, 5, 0)).toEqual([w(5, 15), w(10, 20)]);
    expect(slidingWindows(10, 10, 5, 0)).toEqual([w(5, 15), w(10, 20)]);
    expect(slidingWindows(9, 10, 5, 0)).toEqual([w(0, 10), w(5, 15)]);
    expect(slidingWindows(0, 30, 10, 0)).toEqual([w(-20, 10), w(-10, 20), w(0, 30)]);
  });

  it('handles a slide that does not divide the size, offsets and negative times', () => {
    // starts at multiples of 3 in (7 - 10, 7]
    expect(slidingWindows(7, 10, 3, 0)).toEqual([w(0, 10), w(3, 13), w(6, 16)]);
    // starts at 2 + multiples of 5 in (-11, -1]
    expect(slidingWindows(-1, 10, 5, 2)).toEqual([w(-8, 2), w(-3, 7)]);
  });

  it('every window contains the timestamp and none containing it is missing', () => {
    for (const [size, slide, offset] of [[10, 5, 0], [10, 3, 1], [60, 60, 0], [7, 1, 0], [100, 30, -20]] as const) {
      for (let t = -120; t <= 120; t += 7) {
        const windows = slidingWindows(t, size, slide, offset);
        for (const x of windows) {
          expect(x.start).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(x.end);
          expect(x.end - x.start).toBe(size);
          expect((((x.start - offset) % slide) + slide) % slide).toBe(0);
        }
        // Brute force: every aligned start in (t - size, t].
        let expected = 0;
        for (let s = t - size + 1; s <= t; s++) if ((((s - offset) % slide) + slide) % slide === 0) expected++;
        expect(windows).toHaveLength(expected);
      }
    }
  });
});

describe('session merging', () => {
  it('windows that overlap or touch intersect (Flink: a record exactly one gap later joins the session)', () => {
    expect(windowsIntersect(w(0, 5), w(5, 9))).toBe(true);
    expect(windowsIntersect(w(0, 5), w(4, 9))).toBe(true);
    expect(windowsIntersect(w(0, 5), w(6, 9))).toBe(false);
    expect(windowsIntersect(w(6, 9), w(0, 5))).toBe(false);
  });

  it('a window touching nothing stays on its own', () => {
    expect(mergeIntoSessions([w(0, 10), w(30, 40)], w(15, 25))).toEqual({ merged: w(15, 25), absorbed: [] });
    expect(mergeIntoSessions([], w(15, 25))).toEqual({ merged: w(15, 25), absorbed: [] });
  });

  it('extends the session it touches, on either side or inside', () => {
    expect(mergeIntoSessions([w(0, 10)], w(8, 18))).toEqual({ merged: w(0, 18), absorbed: [w(0, 10)] });
    expect(mergeIntoSessions([w(10, 20)], w(2, 10))).toEqual({ merged: w(2, 20), absorbed: [w(10, 20)] });
    expect(mergeIntoSessions([w(0, 30)], w(5, 15))).toEqual({ merged: w(0, 30), absorbed: [w(0, 30)] });
  });

  it('bridges two sessions into one, absorbing both in start order', () => {
    expect(mergeIntoSessions([w(20, 30), w(0, 10)], w(8, 21))).toEqual({ merged: w(0, 30), absorbed: [w(0, 10), w(20, 30)] });
  });

  it('absorbs every session reached through a merged one', () => {
    // [9, 25) touches [0, 10) and [20, 30); [30, 40) touches the merged [0, 30) at 30.
    const { merged, absorbed } = mergeIntoSessions([w(30, 40), w(0, 10), w(20, 30), w(50, 60)], w(9, 25));
    expect(merged).toEqual(w(0, 40));
    expect(absorbed).toEqual([w(0, 10), w(20, 30), w(30, 40)]);
  });

  it('sessions built record by record equal the gap rule', () => {
    const gap = 5;
    const times = [0, 3, 8, 14, 19, 30, 25, 41, 36];
    let sessions: TimeWindow[] = [];
    for (const t of times) {
      const { merged, absorbed } = mergeIntoSessions(sessions, w(t, t + gap));
      sessions = [...sessions.filter((s) => !absorbed.includes(s)), merged];
    }
    // sorted times 0 3 8 | 14 19 | 25 30 | 36 41: within a session consecutive times are at most `gap` apart.
    expect(sessions.sort((a, b) => a.start - b.start)).toEqual([w(0, 13), w(14, 24), w(25, 35), w(36, 46)]);
  });
});

describe('window assigners', () => {
  it('tumbling and sliding, event and processing time', () => {
    expect(TumblingEventTimeWindows.of(10).assignWindows(null, 13)).toEqual([w(10, 20)]);
    expect(TumblingProcessingTimeWindows.of(10, 2).assignWindows(null, 13)).toEqual([w(12, 22)]);
    expect(SlidingEventTimeWindows.of(10, 5).assignWindows(null, 12)).toEqual([w(5, 15), w(10, 20)]);
    expect(SlidingProcessingTimeWindows.of(10, 5).assignWindows(null, 12)).toEqual([w(5, 15), w(10, 20)]);
    expect(TumblingEventTimeWindows.of(10)).toMatchObject({ kind: 'fixed', timeDomain: 'event-time', sizeMs: 10 });
    expect(SlidingProcessingTimeWindows.of(10, 5)).toMatchObject({ kind: 'fixed', timeDomain: 'processing-time', sizeMs: 10 });
  });

  it('sessions: one window of the gap per record, fixed or per record', () => {
    expect(EventTimeSessionWindows.withGap(30).assignWindows(null, 100)).toEqual([w(100, 130)]);
    expect(ProcessingTimeSessionWindows.withGap(30)).toMatchObject({ kind: 'merging', timeDomain: 'processing-time' });
    const dynamic = EventTimeSessionWindows.withDynamicGap((e: { gap: number }) => e.gap);
    expect(dynamic.assignWindows({ gap: 7 }, 100)).toEqual([w(100, 107)]);
    expect(() => dynamic.assignWindows({ gap: 0 }, 100)).toThrow(RangeError);
  });

  it('refuse bad sizes, slides, offsets and gaps with a JobConfigError naming the setting', () => {
    expect(() => TumblingEventTimeWindows.of(0)).toThrow(JobConfigError);
    expect(() => TumblingProcessingTimeWindows.of(10, 10)).toThrow(/TumblingProcessingTimeWindows offset/);
    expect(() => SlidingEventTimeWindows.of(10, 20)).toThrow(/SlidingEventTimeWindows slide.*at most the size/);
    expect(() => SlidingEventTimeWindows.of(10, 5, 5)).toThrow(/offset/);
    expect(() => SlidingProcessingTimeWindows.of(1.5, 1)).toThrow(/size/);
    expect(() => EventTimeSessionWindows.withGap(-1)).toThrow(/EventTimeSessionWindows gap/);
    expect(() => EventTimeSessionWindows.withDynamicGap(5 as never)).toThrow(JobConfigError);
  });
});
