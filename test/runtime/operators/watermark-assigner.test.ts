// WatermarkAssignerOperator: timestamps from the assigner, bounded-out-of-orderness watermarks at batch ends.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserFunctionError } from '../../../src/runtime/errors.ts';
import { WatermarkAssignerOperator } from '../../../src/runtime/operators/watermark-assigner.ts';
import { ManualProcessingTime } from '../../../src/runtime/time/manual-processing-time.ts';
import type { ProcessingTimeService } from '../../../src/runtime/time/processing-time-service.ts';
import { MAX_WATERMARK, NO_TIMESTAMP } from '../../../src/runtime/types.ts';
import { operatorContext, RecordingOutput } from '../fixtures.ts';

interface Event {
  ts: number;
}

function assigner(maxOutOfOrdernessMs: number, intervalMs = 0, uid = 'wm', processingTime?: ProcessingTimeService) {
  const calls: Array<number | undefined> = [];
  const op = new WatermarkAssignerOperator<Event>(
    operatorContext({ uid, keyed: false, subtaskIndex: 3, processingTime }),
    {
      maxOutOfOrdernessMs,
      timestampAssigner: (value, previous) => {
        calls.push(previous);
        return value.ts;
      },
    },
    intervalMs,
  );
  const out = new RecordingOutput();
  op.open(out);
  return { op, out, calls };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('WatermarkAssignerOperator', () => {
  it('stamps records with the assigned timestamp and passes the previous one (or undefined)', () => {
    const { op, out, calls } = assigner(0);
    op.processElement({ ts: 10 }, NO_TIMESTAMP);
    op.processElement({ ts: 20 }, 7);
    expect(out.records).toEqual([
      { record: { ts: 10 }, timestamp: 10 },
      { record: { ts: 20 }, timestamp: 20 },
    ]);
    expect(calls).toEqual([undefined, 7]);
    expect(out.watermarks).toEqual([]); // nothing before the batch ends
  });

  it('emits maxTimestamp - bound - 1 at the end of a batch, only when it advances', () => {
    const { op, out } = assigner(5);
    op.endOfBatch();
    expect(out.watermarks).toEqual([]); // no record yet
    op.processElement({ ts: 100 }, NO_TIMESTAMP);
    op.processElement({ ts: 90 }, NO_TIMESTAMP);
    op.endOfBatch();
    expect(out.watermarks).toEqual([94]);
    op.endOfBatch();
    op.processElement({ ts: 99 }, NO_TIMESTAMP); // out of order: max stays 100
    op.endOfBatch();
    expect(out.watermarks).toEqual([94]);
    op.processElement({ ts: 101 }, NO_TIMESTAMP);
    op.endOfBatch();
    expect(out.watermarks).toEqual([94, 95]);
  });

  it('replaces upstream watermarks but forwards MAX_WATERMARK once', () => {
    const { op, out } = assigner(0);
    op.processWatermark(1000);
    expect(out.watermarks).toEqual([]);
    op.processWatermark(MAX_WATERMARK);
    op.processWatermark(MAX_WATERMARK);
    expect(out.watermarks).toEqual([MAX_WATERMARK]);
    // nothing can follow the final watermark
    op.processElement({ ts: 5 }, NO_TIMESTAMP);
    op.endOfBatch();
    expect(out.watermarks).toEqual([MAX_WATERMARK]);
  });

  it('emits at most once per interval when intervalMs > 0', () => {
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const { op, out } = assigner(0, 200);
    op.processElement({ ts: 10 }, NO_TIMESTAMP);
    op.endOfBatch();
    expect(out.watermarks).toEqual([9]);
    op.processElement({ ts: 20 }, NO_TIMESTAMP);
    now += 100;
    op.endOfBatch();
    expect(out.watermarks).toEqual([9]);
    now += 100;
    op.endOfBatch();
    expect(out.watermarks).toEqual([9, 19]);
  });

  it('throttles on the subtask’s processing-time clock: a manual clock decides, the first batch end emits whatever its start', () => {
    const clock = new ManualProcessingTime(0);
    const { op, out } = assigner(0, 200, 'wm', clock);
    op.processElement({ ts: 10 }, NO_TIMESTAMP);
    op.endOfBatch();
    expect(out.watermarks).toEqual([9]);
    op.processElement({ ts: 20 }, NO_TIMESTAMP);
    clock.advanceTo(199);
    op.endOfBatch();
    expect(out.watermarks).toEqual([9]);
    clock.advanceTo(200);
    op.endOfBatch();
    expect(out.watermarks).toEqual([9, 19]);
  });

  it('with intervalMs 0 emits at every batch end without reading the clock', () => {
    let reads = 0;
    const clock: ProcessingTimeService = {
      now: () => {
        reads++;
        return 0;
      },
      schedule: () => () => {},
    };
    const { op, out } = assigner(0, 0, 'wm', clock);
    for (const ts of [10, 20, 30]) {
      op.processElement({ ts }, NO_TIMESTAMP);
      op.endOfBatch();
    }
    expect(out.watermarks).toEqual([9, 19, 29]);
    expect(reads).toBe(0);
  });

  it('wraps a throwing assigner in an UserFunctionError naming the uid and subtask', () => {
    const op = new WatermarkAssignerOperator<Event>(
      operatorContext({ uid: 'stamp', keyed: false, subtaskIndex: 2 }),
      {
        maxOutOfOrdernessMs: 0,
        timestampAssigner: () => {
          throw new Error('bad event');
        },
      },
      0,
    );
    op.open(new RecordingOutput());
    const error = (() => {
      try {
        op.processElement({ ts: 1 }, NO_TIMESTAMP);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UserFunctionError);
    expect(error).toMatchObject({ operatorUid: 'stamp', subtaskIndex: 2 });
    expect((error as UserFunctionError).original).toBeInstanceOf(Error);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, '5'])('rejects a non-finite or non-number timestamp %s', (ts) => {
    const op = new WatermarkAssignerOperator<{ ts: unknown }>(
      operatorContext({ uid: 'stamp', keyed: false }),
      { maxOutOfOrdernessMs: 0, timestampAssigner: (v) => v.ts as number },
      0,
    );
    const out = new RecordingOutput();
    op.open(out);
    expect(() => op.processElement({ ts }, NO_TIMESTAMP)).toThrow(UserFunctionError);
    expect(out.records).toEqual([]);
  });
});
