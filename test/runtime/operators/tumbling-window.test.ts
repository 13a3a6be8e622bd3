// Tumbling event-time windows: window starts, per key/window aggregation, firing on watermarks, late records.
import { describe, expect, it } from 'vitest';
import { OperatorFailure } from '../../../src/runtime/operators/operator-failure.ts';
import { TumblingWindowOperator, tumblingWindowOperator, tumblingWindowStart } from '../../../src/runtime/operators/tumbling-window.ts';
import type { AggregateFunction, TimeWindow } from '../../../src/runtime/operators/types.ts';
import { MAX_WATERMARK, NO_TIMESTAMP, type StreamOperator } from '../../../src/runtime/types.ts';
import { operatorContext, RecordingOutput } from '../fixtures.ts';

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
});

interface Click {
  user: string;
  n: number;
}

const sum: AggregateFunction<Click, number, number> = {
  createAccumulator: () => 0,
  add: (value, acc) => acc + value.n,
  getResult: (acc) => acc,
};

function windowOp(resultFn?: (key: string, window: TimeWindow, result: number) => unknown) {
  const ctx = operatorContext({ uid: 'clicks-per-user', subtaskIndex: 1 });
  const op = new TumblingWindowOperator<string, Click, number, number, unknown>(ctx, { sizeMs: 10, offsetMs: 0 }, sum, resultFn, (c) => c.user);
  const out = new RecordingOutput();
  op.open(out);
  return { op, out, ctx };
}

describe('TumblingWindowOperator', () => {
  it('aggregates per key and window and fires when the watermark reaches end - 1', () => {
    const { op, out } = windowOp((key, w, total) => ({ key, ...w, total }));
    op.processElement({ user: 'a', n: 1 }, 1);
    op.processElement({ user: 'b', n: 10 }, 2);
    op.processElement({ user: 'a', n: 2 }, 9);
    op.processElement({ user: 'a', n: 100 }, 10); // next window
    op.processWatermark(8);
    expect(out.records).toEqual([]);
    expect(out.watermarks).toEqual([8]);
    op.processWatermark(9);
    expect(out.events).toEqual([
      { watermark: 8 },
      { record: { key: 'a', start: 0, end: 10, total: 3 }, timestamp: 9 },
      { record: { key: 'b', start: 0, end: 10, total: 10 }, timestamp: 9 },
      { watermark: 9 },
    ]);
    op.processWatermark(MAX_WATERMARK);
    expect(out.records.slice(2)).toEqual([{ record: { key: 'a', start: 10, end: 20, total: 100 }, timestamp: 19 }]);
    expect(out.watermarks).toEqual([8, 9, MAX_WATERMARK]);
  });

  it('fires windows in timestamp order when one watermark passes several', () => {
    const { op, out } = windowOp();
    op.processElement({ user: 'x', n: 3 }, 35);
    op.processElement({ user: 'y', n: 1 }, 5);
    op.processElement({ user: 'x', n: 2 }, 15);
    op.processElement({ user: 'y', n: 4 }, 16);
    op.processWatermark(100);
    expect(out.records).toEqual([
      { record: 1, timestamp: 9 },
      { record: 2, timestamp: 19 },
      { record: 4, timestamp: 19 },
      { record: 3, timestamp: 39 },
    ]);
  });

  it('emits each window once and clears its state', () => {
    const { op, out, ctx } = windowOp();
    op.processElement({ user: 'a', n: 1 }, 1);
    op.processWatermark(9);
    op.processWatermark(50);
    op.processWatermark(MAX_WATERMARK);
    expect(out.records).toEqual([{ record: 1, timestamp: 9 }]);
    expect(ctx.keyedState!.keyCount()).toBe(0);
  });

  it('drops records of windows the watermark has passed, counting them', () => {
    const { op, out } = windowOp();
    op.processWatermark(9);
    op.processElement({ user: 'a', n: 1 }, 9); // window [0, 10) is complete: late
    op.processElement({ user: 'a', n: 1 }, -3); // window [-10, 0): late
    expect(op.lateRecordsDropped).toBe(2);
    op.processElement({ user: 'a', n: 5 }, 10); // window [10, 20): on time
    expect(op.lateRecordsDropped).toBe(2);
    op.processWatermark(19);
    expect(out.records).toEqual([{ record: 5, timestamp: 19 }]);
  });

  it('accepts out-of-order records of windows still open', () => {
    const { op, out } = windowOp();
    op.processElement({ user: 'a', n: 1 }, 18);
    op.processWatermark(8);
    op.processElement({ user: 'a', n: 2 }, 9); // [0,10) is still open at watermark 8
    op.processWatermark(MAX_WATERMARK);
    expect(out.records).toEqual([
      { record: 2, timestamp: 9 },
      { record: 1, timestamp: 19 },
    ]);
    expect(op.lateRecordsDropped).toBe(0);
  });

  it('throws an OperatorFailure naming the uid for a record without timestamp', () => {
    const { op } = windowOp();
    let error: unknown;
    try {
      op.processElement({ user: 'a', n: 1 }, NO_TIMESTAMP);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OperatorFailure);
    expect(error).toMatchObject({ operatorUid: 'clicks-per-user', subtaskIndex: 1 });
    expect((error as Error).message).toContain('clicks-per-user');
    expect(String((error as OperatorFailure).original)).toContain('assignTimestampsAndWatermarks');
  });

  it('wraps a throwing aggregate or result function', () => {
    const ctx = operatorContext({ uid: 'agg' });
    const failing: AggregateFunction<Click, number, number> = {
      ...sum,
      getResult: () => {
        throw new Error('result failed');
      },
    };
    const op: StreamOperator = tumblingWindowOperator<string, Click, number, number, number>({ sizeMs: 10, offsetMs: 0 }, failing, undefined, (c) => c.user).create(ctx);
    op.open(new RecordingOutput());
    op.processElement({ user: 'a', n: 1 }, 1);
    expect(() => op.processWatermark(9)).toThrow(OperatorFailure);
  });

  it('requires a keyed state backend', () => {
    expect(() => new TumblingWindowOperator(operatorContext({ uid: 'w', keyed: false }), { sizeMs: 10, offsetMs: 0 }, sum, undefined, (c: Click) => c.user)).toThrow(/keyBy/);
  });
});
