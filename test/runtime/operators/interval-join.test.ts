// Interval join: bounds, cleanup times and the shared per-key timer (pure logic), and the operator
// on a heap backend: late records, output timestamps, snapshot of buffers' timers, missing timestamps.
import { describe, expect, it } from 'vitest';
import { cleanedBuckets, cleanupTime, insertSorted, intervalBounds, IntervalJoinOperator, LEFT_BUFFER, RIGHT_BUFFER, TIMES_SUFFIX } from '../../../src/runtime/operators/interval-join.ts';
import { UserFunctionError } from '../../../src/runtime/errors.ts';
import { IntervalJoinTimestampError } from '../../../src/runtime/operators/two-input-errors.ts';
import type { ProcessJoinFunctionLike } from '../../../src/runtime/operators/two-input-types.ts';
import { NO_TIMESTAMP } from '../../../src/runtime/types.ts';
import { operatorContext, RecordingOutput } from '../fixtures.ts';

describe('intervalBounds', () => {
  it('keeps inclusive bounds and moves exclusive ones in by 1 ms', () => {
    expect(intervalBounds(-2, 1)).toEqual({ lowerMs: -2, upperMs: 1 });
    expect(intervalBounds(-2, 1, { lowerExclusive: true })).toEqual({ lowerMs: -1, upperMs: 1 });
    expect(intervalBounds(-2, 1, { upperExclusive: true })).toEqual({ lowerMs: -2, upperMs: 0 });
    expect(intervalBounds(3, 3)).toEqual({ lowerMs: 3, upperMs: 3 });
  });

  it('refuses an empty interval and non-integer bounds, naming the bound', () => {
    expect(() => intervalBounds(2, 1)).toThrow(/invalid intervalJoin between: the lower bound \(2\) must not be after the upper bound \(1\)/);
    expect(() => intervalBounds(1, 2, { lowerExclusive: true, upperExclusive: true })).toThrow(/must not be after/);
    expect(() => intervalBounds(Number.NaN, 1)).toThrow(/lower bound/);
    expect(() => intervalBounds(0, Number.POSITIVE_INFINITY)).toThrow(/upper bound/);
  });
});

describe('cleanup timers', () => {
  it('a left record waits until t + upper (or t), a right one until t - lower (or t)', () => {
    expect(cleanupTime(100, 10)).toBe(110);
    expect(cleanupTime(100, 0)).toBe(100);
    expect(cleanupTime(100, -5)).toBe(100);
  });

  it('the timer a record registers removes exactly its own bucket, on either side, for any bounds', () => {
    for (let lower = -6; lower <= 6; lower++) {
      for (let upper = lower; upper <= 6; upper++) {
        const bounds = { lowerMs: lower, upperMs: upper };
        for (const t of [-7, 0, 3, 1_000]) {
          expect(cleanedBuckets(cleanupTime(t, upper), bounds).left).toBe(t);
          expect(cleanedBuckets(cleanupTime(t, -lower), bounds).right).toBe(t);
        }
      }
    }
  });

  it('no record is removed before every partner that is not late could meet it', () => {
    // A record goes once the watermark W reaches its cleanup time; a partner is late when its time
    // is < W. So every partner time in range must be <= the cleanup time: after the removal, each
    // partner still to come is late (or exactly at W, the edge Flink drops the same way).
    for (let lower = -6; lower <= 6; lower++) {
      for (let upper = lower; upper <= 6; upper++) {
        const t = 50;
        for (let partner = t + lower; partner <= t + upper; partner++) {
          expect(partner).toBeLessThanOrEqual(cleanupTime(t, upper));
          // The right side's view of the same pair: the left record at t is a partner of `partner`.
          expect(t).toBeLessThanOrEqual(cleanupTime(partner, -lower));
        }
      }
    }
  });
});

interface Ev {
  key: string;
  id: number;
}

function joinOperator(lower: number, upper: number, late?: { left?: string; right?: string }) {
  const ctx = operatorContext({ uid: 'join' });
  const pairs: string[] = [];
  const fn: ProcessJoinFunctionLike<string, Ev, Ev, string> = {
    processElement(l, r, c, out) {
      pairs.push(`${c.key}:${l.id}-${r.id}`);
      out.collect(`${l.id}-${r.id}@${c.leftTimestamp},${c.rightTimestamp}`);
    },
  };
  const op = new IntervalJoinOperator<string, Ev, Ev, string>(ctx, { lowerMs: lower, upperMs: upper, leftLateTag: late?.left, rightLateTag: late?.right }, fn, (e) => e.key, (e) => e.key);
  const out = new RecordingOutput();
  const sides: Array<[string, unknown, number]> = [];
  const output = Object.assign(out, { side: (tag: string, value: unknown, ts: number) => void sides.push([tag, value, ts]) });
  return { op, ctx, out, sides, pairs, open: () => op.open(output) };
}

describe('IntervalJoinOperator', () => {
  it('emits each pair once, stamped with the later time, from whichever side arrives second', async () => {
    const j = joinOperator(-2, 1);
    await j.open();
    j.op.processElement({ key: 'a', id: 1 }, 10);
    j.op.processElement2({ key: 'a', id: 2 }, 8);
    j.op.processElement2({ key: 'a', id: 3 }, 12);
    j.op.processElement2({ key: 'b', id: 4 }, 10);
    j.op.processElement({ key: 'a', id: 5 }, 9);
    expect(j.pairs).toEqual(['a:1-2', 'a:5-2']);
    expect(j.out.records).toEqual([
      { record: '1-2@10,8', timestamp: 10 },
      { record: '5-2@9,8', timestamp: 9 },
    ]);
    // Cleanup: left at t + 1 (10 -> 11, 9 -> 10), right at t + 2 (8 -> 10, 12 -> 14; b: 10 -> 12).
    // Left 9 and right 8 share a@10: one timer per key and time.
    expect(j.op.snapshotState().timers.map(([key, t]) => `${key}@${t}`).sort()).toEqual(['a@10', 'a@11', 'a@14', 'b@12']);
  });

  it('drops records before the watermark, or sends them to the late side output with their time', async () => {
    const j = joinOperator(0, 5, { right: 'late-right' });
    await j.open();
    j.op.processWatermark(100);
    j.op.processElement({ key: 'a', id: 1 }, 99);
    j.op.processElement2({ key: 'a', id: 2 }, 99);
    j.op.processElement({ key: 'a', id: 3 }, 100);
    j.op.processElement2({ key: 'a', id: 4 }, 100);
    expect(j.pairs).toEqual(['a:3-4']);
    expect(j.sides).toEqual([['late-right', { key: 'a', id: 2 }, 99]]);
    expect(j.out.watermarks).toEqual([100]);
  });

  it('removes both sides buffers when the shared timer fires', async () => {
    const j = joinOperator(-3, 4);
    await j.open();
    j.op.processElement({ key: 'a', id: 1 }, 10); // left: cleanup at 14
    j.op.processElement2({ key: 'a', id: 2 }, 11); // right: cleanup at 14 too
    const state = j.ctx.keyedState!;
    state.setCurrentKey('a');
    expect([...state.mapState(LEFT_BUFFER).keys()]).toEqual([10]);
    expect([...state.mapState(RIGHT_BUFFER).keys()]).toEqual([11]);
    j.op.processElement({ key: 'a', id: 3 }, 12); // left: cleanup at 16
    state.setCurrentKey('a');
    expect(state.valueState(LEFT_BUFFER + TIMES_SUFFIX).value()).toEqual([10, 12]);
    j.op.processWatermark(13);
    state.setCurrentKey('a');
    expect(state.mapState(LEFT_BUFFER).isEmpty()).toBe(false);
    j.op.processWatermark(14);
    state.setCurrentKey('a');
    expect([...state.mapState(LEFT_BUFFER).keys()]).toEqual([12]);
    expect(state.valueState(LEFT_BUFFER + TIMES_SUFFIX).value()).toEqual([12]);
    expect(state.mapState(RIGHT_BUFFER).isEmpty()).toBe(true);
    // The index goes with its last bucket: nothing is left of the key.
    expect(state.valueState(RIGHT_BUFFER + TIMES_SUFFIX).value()).toBeUndefined();
    j.op.processWatermark(16);
    state.setCurrentKey('a');
    expect(state.mapState(LEFT_BUFFER).isEmpty()).toBe(true);
    expect(state.valueState(LEFT_BUFFER + TIMES_SUFFIX).value()).toBeUndefined();
    expect(state.keyCount()).toBe(0);
  });

  it('keeps the bucket times of each side sorted', () => {
    expect(insertSorted([], 5)).toEqual([5]);
    expect(insertSorted([1, 3, 7], 4)).toEqual([1, 3, 4, 7]);
    expect(insertSorted([1, 3], 0)).toEqual([0, 1, 3]);
    expect(insertSorted([1, 3], 9)).toEqual([1, 3, 9]);
  });

  it('a record without event time fails the operator with a typed error', async () => {
    const j = joinOperator(0, 1);
    await j.open();
    let thrown: unknown;
    try {
      j.op.processElement2({ key: 'a', id: 1 }, NO_TIMESTAMP);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserFunctionError);
    const original = (thrown as UserFunctionError).original;
    expect(original).toBeInstanceOf(IntervalJoinTimestampError);
    expect(original).toMatchObject({ code: 'BATON_ERR_INTERVAL_JOIN_NO_TIMESTAMP', side: 'right', operatorUid: 'join' });
  });
});
