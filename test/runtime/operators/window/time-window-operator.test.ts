// Time windows in one operator: tumbling/sliding/session assignment, firing on watermarks and processing
// time, allowed lateness (re-firing, cleanup), late records to a side output or counted, snapshot and restore.
import { describe, expect, it } from 'vitest';
import {
  EventTimeSessionWindows,
  SlidingEventTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '../../../../src/api/windows.ts';
import { UserFunctionError } from '../../../../src/runtime/errors.ts';
import type { AggregateFunction, Collector } from '../../../../src/runtime/operators/types.ts';
import { TimeWindowOperator, type TimeWindowSpec } from '../../../../src/runtime/operators/window/time-window-operator.ts';
import type { ProcessWindowContext, TimeWindow, WindowAssigner } from '../../../../src/runtime/operators/window/types.ts';
import { aggregateContents, listContents, reduceContents, type WindowContents } from '../../../../src/runtime/operators/window/window-contents.ts';
import type { WindowFunction } from '../../../../src/runtime/operators/window/window-emitter.ts';
import { WindowStateUnsupportedError } from '../../../../src/runtime/operators/window/window-state.ts';
import { ManualProcessingTime } from '../../../../src/runtime/time/manual-processing-time.ts';
import { MAX_WATERMARK, NO_TIMESTAMP, type OperatorMetrics } from '../../../../src/runtime/types.ts';
import { operatorContext, RecordingOutput } from '../../fixtures.ts';

interface Click {
  user: string;
  n: number;
}

const sum: AggregateFunction<Click, number, number> = {
  createAccumulator: () => 0,
  add: (value, acc) => acc + value.n,
  getResult: (acc) => acc,
  merge: (a, b) => a + b,
};

class SideRecordingOutput extends RecordingOutput {
  readonly sides: Array<{ tag: string; value: unknown; timestamp: number }> = [];
  side(tag: string, value: unknown, timestamp: number): void {
    this.sides.push({ tag, value, timestamp });
  }
}

interface Options {
  assigner?: WindowAssigner<Click>;
  contents?: WindowContents<Click, unknown, unknown>;
  fn?: WindowFunction<string, TimeWindow>;
  lateness?: number;
  lateTag?: string;
  clock?: ManualProcessingTime;
}

function windowOp(options: Options = {}) {
  const metrics: OperatorMetrics = { recordsIn: 0, recordsOut: 0 };
  const ctx = { ...operatorContext({ uid: 'clicks-per-user', subtaskIndex: 1, processingTime: options.clock }), metrics };
  const spec: TimeWindowSpec<Click, string> = {
    assigner: options.assigner ?? TumblingEventTimeWindows.of(10),
    contents: options.contents ?? (aggregateContents(sum) as WindowContents<Click, unknown, unknown>),
    fn: options.fn ?? { kind: 'none' },
    keySelector: (c) => c.user,
    allowedLatenessMs: options.lateness ?? 0,
    lateDataTag: options.lateTag,
  };
  const op = new TimeWindowOperator<string, Click>(ctx, spec);
  const out = new SideRecordingOutput();
  void op.open(out);
  return { op, out, ctx, metrics, spec };
}

const describeWindow = (key: string, w: TimeWindow, total: unknown) => ({ key, ...w, total });
const resultFn: WindowFunction<string, TimeWindow> = { kind: 'result', fn: describeWindow };

describe('tumbling event-time windows', () => {
  it('aggregates per key and window and fires when the watermark reaches end - 1', () => {
    const { op, out } = windowOp({ fn: resultFn });
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

  it('drops records of windows the watermark has passed, counting them in the operator metrics', () => {
    const { op, out, metrics } = windowOp();
    expect(metrics.lateRecordsDropped).toBe(0);
    op.processWatermark(9);
    op.processElement({ user: 'a', n: 1 }, 9); // window [0, 10) is complete: late
    op.processElement({ user: 'a', n: 1 }, -3); // window [-10, 0): late
    expect(op.lateRecordsDropped).toBe(2);
    expect(metrics.lateRecordsDropped).toBe(2);
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

  it('throws an UserFunctionError naming the uid for a record without timestamp', () => {
    const { op } = windowOp();
    let error: unknown;
    try {
      op.processElement({ user: 'a', n: 1 }, NO_TIMESTAMP);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserFunctionError);
    expect(error).toMatchObject({ operatorUid: 'clicks-per-user', subtaskIndex: 1 });
    expect(String((error as UserFunctionError).original)).toContain('assignTimestampsAndWatermarks');
  });

  it('wraps a throwing aggregate or result function', () => {
    const failing: AggregateFunction<Click, number, number> = {
      ...sum,
      getResult: () => {
        throw new Error('result failed');
      },
    };
    const { op } = windowOp({ contents: aggregateContents(failing) as WindowContents<Click, unknown, unknown> });
    op.processElement({ user: 'a', n: 1 }, 1);
    expect(() => op.processWatermark(9)).toThrow(UserFunctionError);
  });

  it('requires a keyed state backend', () => {
    const spec = windowOp().spec;
    expect(() => new TimeWindowOperator(operatorContext({ uid: 'w', keyed: false }), spec)).toThrow(/keyBy/);
  });
});

describe('sliding event-time windows', () => {
  it('adds a record to every window containing it; each fires at its own end', () => {
    const { op, out } = windowOp({ assigner: SlidingEventTimeWindows.of(10, 5), fn: resultFn });
    op.processElement({ user: 'a', n: 1 }, 7); // [0,10) and [5,15)
    op.processElement({ user: 'a', n: 10 }, 12); // [5,15) and [10,20)
    op.processWatermark(MAX_WATERMARK);
    expect(out.records.map((r) => r.record)).toEqual([
      { key: 'a', start: 0, end: 10, total: 1 },
      { key: 'a', start: 5, end: 15, total: 11 },
      { key: 'a', start: 10, end: 20, total: 10 },
    ]);
  });

  it('a record late for some of its windows joins the others and is not counted as late', () => {
    const { op, out } = windowOp({ assigner: SlidingEventTimeWindows.of(10, 5) });
    op.processWatermark(10);
    op.processElement({ user: 'a', n: 1 }, 8); // [0,10) is late, [5,15) is not
    expect(op.lateRecordsDropped).toBe(0);
    op.processWatermark(MAX_WATERMARK);
    expect(out.records).toEqual([{ record: 1, timestamp: 14 }]);
  });
});

describe('session windows', () => {
  const sessions = EventTimeSessionWindows.withGap(10) as WindowAssigner<Click>;

  it('merges records less than a gap apart and fires at the last one + gap - 1', () => {
    const { op, out, ctx } = windowOp({ assigner: sessions, fn: resultFn });
    op.processElement({ user: 'a', n: 1 }, 0);
    op.processElement({ user: 'a', n: 2 }, 10); // touches [0,10): one session [0,20)
    op.processElement({ user: 'a', n: 4 }, 31); // a new session [31,41)
    op.processElement({ user: 'b', n: 8 }, 5);
    op.processWatermark(18);
    expect(out.records).toEqual([{ record: { key: 'b', start: 5, end: 15, total: 8 }, timestamp: 14 }]);
    op.processWatermark(19);
    expect(out.records.slice(1)).toEqual([{ record: { key: 'a', start: 0, end: 20, total: 3 }, timestamp: 19 }]);
    op.processWatermark(MAX_WATERMARK);
    expect(out.records.slice(2)).toEqual([{ record: { key: 'a', start: 31, end: 41, total: 4 }, timestamp: 40 }]);
    expect(ctx.keyedState!.keyCount()).toBe(0);
  });

  it('a record between two sessions bridges them into one, contents merged in time order', () => {
    const { op, out } = windowOp({ assigner: sessions, contents: listContents<Click>() as WindowContents<Click, unknown, unknown> });
    op.processElement({ user: 'a', n: 1 }, 0); // [0,10)
    op.processElement({ user: 'a', n: 2 }, 25); // [25,35)
    op.processElement({ user: 'a', n: 3 }, 12); // [12,22): touches neither
    op.processElement({ user: 'a', n: 4 }, 9); // [9,19): touches [0,10) and [12,22)
    op.processElement({ user: 'a', n: 5 }, 20); // [20,30): touches [0,22) and [25,35)
    op.processWatermark(MAX_WATERMARK);
    expect(out.records).toEqual([{ record: [1, 3, 4, 2, 5].map((n) => expect.objectContaining({ n })), timestamp: 34 }]);
  });

  it('moves its timers with the session: no timer is left for a merged-away session end', () => {
    const { op } = windowOp({ assigner: sessions });
    op.processElement({ user: 'a', n: 1 }, 0);
    op.processElement({ user: 'a', n: 1 }, 5);
    op.processElement({ user: 'a', n: 1 }, 12);
    // Only the timer at the session's end - 1 (21) is pending.
    expect(op.snapshotState().timers).toEqual([['a', 21, 'event-time']]);
  });

  it('needs an aggregate with merge to merge accumulators', () => {
    const noMerge: AggregateFunction<Click, number, number> = { createAccumulator: () => 0, add: (c, n) => n + c.n, getResult: (n) => n };
    const { op } = windowOp({ assigner: sessions, contents: aggregateContents(noMerge) as WindowContents<Click, unknown, unknown> });
    op.processElement({ user: 'a', n: 1 }, 0);
    op.processElement({ user: 'a', n: 1 }, 5); // extends the one session: nothing to merge yet
    op.processElement({ user: 'a', n: 1 }, 20); // [0,15) and [20,30)
    expect(() => op.processElement({ user: 'a', n: 1 }, 10)).toThrow(UserFunctionError); // [10,20) bridges the two accumulators
  });

  it('refuses per-window state with a typed error', () => {
    const fn: WindowFunction<string, TimeWindow> = {
      kind: 'process',
      fn: {
        process(_key, ctx: ProcessWindowContext) {
          ctx.windowState.valueState('x');
        },
      },
    };
    const { op } = windowOp({ assigner: sessions, fn, contents: listContents<Click>() as WindowContents<Click, unknown, unknown> });
    op.processElement({ user: 'a', n: 1 }, 0);
    let error: unknown;
    try {
      op.processWatermark(MAX_WATERMARK);
    } catch (e) {
      error = e;
    }
    expect((error as UserFunctionError).original).toBeInstanceOf(WindowStateUnsupportedError);
    expect((error as UserFunctionError).original).toMatchObject({ code: 'BATON_ERR_WINDOW_STATE_MERGING' });
  });
});

describe('allowed lateness and late data', () => {
  it('keeps a fired window until end - 1 + lateness and fires it again for each late record', () => {
    const { op, out, ctx } = windowOp({ fn: resultFn, lateness: 20 });
    op.processElement({ user: 'a', n: 1 }, 3);
    op.processWatermark(9);
    expect(out.records.map((r) => r.record)).toEqual([{ key: 'a', start: 0, end: 10, total: 1 }]);
    op.processElement({ user: 'a', n: 2 }, 5); // late, within lateness: fires again at once
    expect(out.records.map((r) => r.record)).toEqual([
      { key: 'a', start: 0, end: 10, total: 1 },
      { key: 'a', start: 0, end: 10, total: 3 },
    ]);
    expect(out.records[1].timestamp).toBe(9);
    op.processWatermark(28);
    op.processElement({ user: 'a', n: 4 }, 0); // still within: 9 + 20 = 29 > 28
    expect(out.records.at(-1)?.record).toEqual({ key: 'a', start: 0, end: 10, total: 7 });
    op.processWatermark(29); // cleanup: contents gone
    expect(ctx.keyedState!.keyCount()).toBe(0);
    op.processElement({ user: 'a', n: 8 }, 9);
    expect(out.records).toHaveLength(3);
    expect(op.lateRecordsDropped).toBe(1);
  });

  it('a late record within the lateness of a window that never existed fires it at once', () => {
    const { op, out } = windowOp({ fn: resultFn, lateness: 100 });
    op.processWatermark(50);
    op.processElement({ user: 'b', n: 5 }, 12);
    expect(out.records).toEqual([{ record: { key: 'b', start: 10, end: 20, total: 5 }, timestamp: 19 }]);
    op.processWatermark(MAX_WATERMARK);
    expect(out.records).toHaveLength(1);
  });

  it('sends records later than the lateness to the late side output instead of dropping them', () => {
    const { op, out, metrics } = windowOp({ lateness: 5, lateTag: 'late' });
    op.processWatermark(14);
    op.processElement({ user: 'a', n: 1 }, 9); // 9 + 5 = 14 <= 14: too late
    op.processElement({ user: 'a', n: 2 }, 10); // [10,20) is open
    expect(out.sides).toEqual([{ tag: 'late', value: { user: 'a', n: 1 }, timestamp: 9 }]);
    expect(metrics.lateRecordsDropped).toBe(0);
  });

  it('late session records re-fire the session they join; a session past its lateness is gone', () => {
    const { op, out } = windowOp({ assigner: EventTimeSessionWindows.withGap(10) as WindowAssigner<Click>, fn: resultFn, lateness: 30, lateTag: 'late' });
    op.processElement({ user: 'a', n: 1 }, 0);
    op.processElement({ user: 'a', n: 2 }, 5);
    op.processWatermark(20); // fires [0,15)
    op.processElement({ user: 'a', n: 4 }, 10); // merges into the fired session: [0,20) ended already, fires at once
    expect(out.records.map((r) => r.record)).toEqual([
      { key: 'a', start: 0, end: 15, total: 3 },
      { key: 'a', start: 0, end: 20, total: 7 },
    ]);
    op.processElement({ user: 'a', n: 16 }, 12); // [0,22) is not over at watermark 20: fires later
    expect(out.records).toHaveLength(2);
    op.processWatermark(21);
    expect(out.records.at(-1)?.record).toEqual({ key: 'a', start: 0, end: 22, total: 23 });
    op.processWatermark(51); // cleanup of [0,22) at 21 + 30
    op.processElement({ user: 'a', n: 8 }, 8); // [8,18): 17 + 30 <= 51, and nothing is left to merge with
    expect(out.sides.map((s) => s.value)).toEqual([{ user: 'a', n: 8 }]);
    op.processWatermark(MAX_WATERMARK);
    expect(out.records).toHaveLength(3);
  });
});

describe('processing-time windows', () => {
  it('assign records by the operator clock and fire when it reaches the window end', () => {
    const clock = new ManualProcessingTime(1_000);
    const { op, out } = windowOp({ assigner: TumblingProcessingTimeWindows.of(100) as WindowAssigner<Click>, fn: resultFn, clock });
    op.processElement({ user: 'a', n: 1 }, NO_TIMESTAMP);
    clock.advanceTo(1_050);
    op.processElement({ user: 'a', n: 2 }, NO_TIMESTAMP);
    op.processWatermark(5_000); // event time plays no part
    expect(out.records).toEqual([]);
    clock.advanceTo(1_098);
    expect(out.records).toEqual([]);
    clock.advanceTo(1_099);
    expect(out.records).toEqual([{ record: { key: 'a', start: 1_000, end: 1_100, total: 3 }, timestamp: 1_099 }]);
    clock.advanceTo(1_150);
    op.processElement({ user: 'a', n: 4 }, NO_TIMESTAMP);
    // The end of input fires what is pending.
    op.endInput();
    expect(out.records.at(-1)).toEqual({ record: { key: 'a', start: 1_100, end: 1_200, total: 4 }, timestamp: 1_199 });
  });
});

describe('process window functions', () => {
  it('get key, window, every element, per-window state (cleared with the window) and global state', () => {
    const calls: string[] = [];
    const fn: WindowFunction<string, TimeWindow> = {
      kind: 'process',
      fn: {
        process(key, ctx: ProcessWindowContext, elements: readonly unknown[], out: Collector<unknown>) {
          const firing = ctx.windowState.valueState<number>('firing');
          const n = (firing.value() ?? 0) + 1;
          firing.update(n);
          const windows = ctx.globalState.valueState<number>('windows');
          if (n === 1) windows.update((windows.value() ?? 0) + 1);
          out.collect(`${key}[${ctx.window.start},${ctx.window.end}) #${n} of ${windows.value()}: ${(elements as Click[]).map((c) => c.n).join(',')}`);
        },
        clear(ctx: ProcessWindowContext) {
          calls.push(`clear ${ctx.window.start} firing=${ctx.windowState.valueState<number>('firing').value()}`);
        },
      },
    };
    const { op, out, ctx } = windowOp({ fn, lateness: 10, contents: listContents<Click>() as WindowContents<Click, unknown, unknown> });
    op.processElement({ user: 'a', n: 1 }, 1);
    op.processElement({ user: 'a', n: 2 }, 2);
    op.processWatermark(9);
    op.processElement({ user: 'a', n: 3 }, 3); // late: fires again
    op.processWatermark(MAX_WATERMARK);
    expect(out.records.map((r) => r.record)).toEqual(['a[0,10) #1 of 1: 1,2', 'a[0,10) #2 of 1: 1,2,3']);
    expect(calls).toEqual(['clear 0 firing=2']);
    // Only the global state is left.
    ctx.keyedState!.setCurrentKey('a');
    expect(ctx.keyedState!.mapState('window-state').isEmpty()).toBe(true);
    expect(ctx.keyedState!.valueState('windows').value()).toBe(1);
  });

  it('after reduce, get the reduced value as their one element', () => {
    const seen: unknown[] = [];
    const fn: WindowFunction<string, TimeWindow> = {
      kind: 'process',
      fn: { process: (_k, _ctx, elements) => seen.push(elements) },
    };
    const { op } = windowOp({ fn, contents: reduceContents<Click>((a, b) => ({ user: a.user, n: a.n + b.n })) as WindowContents<Click, unknown, unknown> });
    op.processElement({ user: 'a', n: 1 }, 1);
    op.processElement({ user: 'a', n: 2 }, 2);
    op.processWatermark(MAX_WATERMARK);
    expect(seen).toEqual([[{ user: 'a', n: 3 }]]);
  });
});

describe('snapshot and restore', () => {
  it('restores timers and the lowest saved watermark: a record late before the checkpoint stays late', () => {
    const first = windowOp({ lateness: 0 });
    first.op.processElement({ user: 'a', n: 1 }, 25);
    first.op.processWatermark(19);
    const saved = first.op.snapshotState();
    expect(saved.watermark).toBe(19);

    const second = windowOp();
    second.op.initializeState([saved, { timers: [], watermark: 30 }]);
    expect(second.op.currentWatermark()).toBe(19);
    second.op.processElement({ user: 'b', n: 7 }, 15); // [10,20) ended at the restored watermark
    expect(second.op.lateRecordsDropped).toBe(1);
    // The restored timer fires; the window's contents come with keyed state, absent in this unit test.
    second.op.processWatermark(MAX_WATERMARK);
    expect(second.out.records).toEqual([]);
  });
});
