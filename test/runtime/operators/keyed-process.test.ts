// KeyedProcessOperator: per-key state, event/processing-time timers with key and timestamps, failures.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyedProcessOperator, keyedProcessOperator } from '../../../src/runtime/operators/keyed-process.ts';
import { UserFunctionError } from '../../../src/runtime/errors.ts';
import type {
  Collector,
  KeyedProcessContext,
  KeyedProcessFunctionLike,
  KeyedRuntimeContext,
  OnTimerContext,
} from '../../../src/runtime/operators/types.ts';
import { MAX_WATERMARK, NO_TIMESTAMP } from '../../../src/runtime/types.ts';
import type { ValueState } from '../../../src/state/types.ts';
import { ManualProcessingTime } from '../../../src/runtime/time/manual-processing-time.ts';
import { operatorContext, RecordingOutput, type TestContext } from '../fixtures.ts';

interface Reading {
  sensor: string;
  value: number;
}

interface Fired {
  key: string;
  timestamp: number;
  ctxTimestamp: number | undefined;
  domain: string;
  count: number | undefined;
}

let now = 5_000_000;

beforeEach(() => {
  now = 5_000_000;
  vi.spyOn(Date, 'now').mockImplementation(() => now);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts readings per sensor; registers an event-time timer at ts + 10 and a processing-time timer at now + 1000. */
class CountingFunction implements KeyedProcessFunctionLike<string, Reading, unknown> {
  count!: ValueState<number>;
  opened: KeyedRuntimeContext | undefined;
  closed = false;
  seen: Array<{ key: string; timestamp: number | undefined }> = [];

  open(ctx: KeyedRuntimeContext): void {
    this.opened = ctx;
    this.count = ctx.valueState<number>('count');
  }

  processElement(value: Reading, ctx: KeyedProcessContext<string>, out: Collector<unknown>): void {
    this.seen.push({ key: ctx.key, timestamp: ctx.timestamp });
    const next = (this.count.value() ?? 0) + 1;
    this.count.update(next);
    out.collect({ sensor: value.sensor, count: next });
    if (ctx.timestamp !== undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp + 10);
    if (value.value < 0) ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 1000);
  }

  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<unknown>): void {
    const fired: Fired = { key: ctx.key, timestamp, ctxTimestamp: ctx.timestamp, domain: ctx.timeDomain, count: this.count.value() };
    out.collect(fired);
  }

  close(): void {
    this.closed = true;
  }
}

async function setup(fn = new CountingFunction(), uid = 'counter') {
  const ctx: TestContext = operatorContext({ uid, subtaskIndex: 0 });
  const op = new KeyedProcessOperator<string, Reading, unknown>(ctx, fn, (r) => r.sensor);
  const out = new RecordingOutput();
  await op.open(out);
  return { op, out, ctx, fn };
}

describe('KeyedProcessOperator', () => {
  it('opens the function with a keyed runtime context', async () => {
    const { fn } = await setup();
    expect(fn.opened).toMatchObject({ uid: 'counter', subtaskIndex: 0, parallelism: 1 });
  });

  it('keeps state per key and passes key and timestamp to the function', async () => {
    const { op, out, fn, ctx } = await setup();
    op.processElement({ sensor: 'a', value: 1 }, 100);
    op.processElement({ sensor: 'b', value: 1 }, NO_TIMESTAMP);
    op.processElement({ sensor: 'a', value: 1 }, 101);
    expect(out.records).toEqual([
      { record: { sensor: 'a', count: 1 }, timestamp: 100 },
      { record: { sensor: 'b', count: 1 }, timestamp: NO_TIMESTAMP },
      { record: { sensor: 'a', count: 2 }, timestamp: 101 },
    ]);
    expect(fn.seen).toEqual([
      { key: 'a', timestamp: 100 },
      { key: 'b', timestamp: undefined },
      { key: 'a', timestamp: 101 },
    ]);
    expect(ctx.keyedState!.keyCount()).toBe(2);
  });

  it('fires event-time timers on the watermark with key, timestamp and state of that key', async () => {
    const { op, out } = await setup();
    op.processElement({ sensor: 'a', value: 1 }, 100); // timer a@110
    op.processElement({ sensor: 'b', value: 1 }, 95); // timer b@105
    op.processElement({ sensor: 'a', value: 1 }, 100); // same timer a@110 (deduplicated)
    out.clear();
    op.processWatermark(104);
    expect(out.events).toEqual([{ watermark: 104 }]);
    op.processWatermark(110);
    expect(out.events.slice(1)).toEqual([
      { record: { key: 'b', timestamp: 105, ctxTimestamp: 105, domain: 'event-time', count: 1 }, timestamp: 105 },
      { record: { key: 'a', timestamp: 110, ctxTimestamp: 110, domain: 'event-time', count: 2 }, timestamp: 110 },
      { watermark: 110 },
    ]);
  });

  it('exposes the current watermark to the function', async () => {
    let seen: number | undefined;
    const fn = new CountingFunction();
    fn.processElement = (_v, ctx) => {
      seen = ctx.timerService.currentWatermark();
    };
    const { op } = await setup(fn);
    op.processWatermark(42);
    op.processElement({ sensor: 'a', value: 1 }, 50);
    expect(seen).toBe(42);
  });

  it('does not fire a deleted event-time timer', async () => {
    const fn = new CountingFunction();
    const base = fn.processElement.bind(fn);
    fn.processElement = (v, ctx, out) => {
      base(v, ctx, out);
      if (v.value === 0) ctx.timerService.deleteEventTimeTimer(ctx.timestamp! + 10);
    };
    const { op, out } = await setup(fn);
    op.processElement({ sensor: 'a', value: 0 }, 100);
    op.processWatermark(MAX_WATERMARK);
    expect(out.records.filter((r) => (r.record as Fired).domain !== undefined)).toEqual([]);
  });

  it('fires processing-time timers when the scheduled callback runs, without event timestamp', async () => {
    const { op, out, ctx } = await setup();
    op.processElement({ sensor: 'a', value: -1 }, NO_TIMESTAMP); // processing timer at now + 1000
    op.processElement({ sensor: 'b', value: 1 }, NO_TIMESTAMP); // no timers
    expect(ctx.scheduled.map((s) => s.atMs)).toEqual([now + 1000]);
    out.clear();
    now += 1000;
    ctx.fireScheduled();
    expect(out.events).toEqual([
      { record: { key: 'a', timestamp: 5_001_000, ctxTimestamp: undefined, domain: 'processing-time', count: 1 }, timestamp: NO_TIMESTAMP },
    ]);
  });

  it('fires all pending processing-time timers at endInput', async () => {
    const { op, out, ctx } = await setup();
    op.processElement({ sensor: 'a', value: -1 }, NO_TIMESTAMP);
    now += 10;
    op.processElement({ sensor: 'b', value: -1 }, NO_TIMESTAMP);
    out.clear();
    op.endInput();
    expect(out.records.map((r) => [(r.record as Fired).key, (r.record as Fired).timestamp, (r.record as Fired).domain])).toEqual([
      ['a', 5_001_000, 'processing-time'],
      ['b', 5_001_010, 'processing-time'],
    ]);
    expect(ctx.scheduled.every((s) => s.canceled)).toBe(true);
  });

  it('closes the function and cancels scheduled timers', async () => {
    const { op, ctx, fn } = await setup();
    op.processElement({ sensor: 'a', value: -1 }, NO_TIMESTAMP);
    await op.close();
    expect(fn.closed).toBe(true);
    expect(ctx.scheduled.every((s) => s.canceled)).toBe(true);
  });

  it('surfaces a throwing processElement as an UserFunctionError with uid and subtask', async () => {
    const fn = new CountingFunction();
    const cause = new Error('bad reading');
    fn.processElement = () => {
      throw cause;
    };
    const ctx = operatorContext({ uid: 'sensor-check', subtaskIndex: 3 });
    const op = keyedProcessOperator<string, Reading, unknown>(fn, (r) => r.sensor).create(ctx);
    await op.open(new RecordingOutput());
    let error: unknown;
    try {
      op.processElement({ sensor: 'a', value: 1 }, 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserFunctionError);
    expect(error).toMatchObject({ operatorUid: 'sensor-check', subtaskIndex: 3, original: cause });
    expect((error as Error).message).toContain("operator 'sensor-check' (subtask 3)");
  });

  it('surfaces a throwing key selector, onTimer, open and close as UserFunctionError', async () => {
    const throwingKey = new KeyedProcessOperator<string, Reading, unknown>(operatorContext({ uid: 'k' }), new CountingFunction(), () => {
      throw new Error('no key');
    });
    await throwingKey.open(new RecordingOutput());
    expect(() => throwingKey.processElement({ sensor: 'a', value: 1 }, 1)).toThrow(UserFunctionError);

    const fn = new CountingFunction();
    fn.onTimer = () => {
      throw new Error('timer failed');
    };
    const { op } = await setup(fn, 'timed');
    op.processElement({ sensor: 'a', value: 1 }, 1);
    expect(() => op.processWatermark(100)).toThrow(expect.objectContaining({ operatorUid: 'timed' }));

    const badOpen = new CountingFunction();
    badOpen.open = () => {
      throw new Error('open failed');
    };
    const opened = new KeyedProcessOperator<string, Reading, unknown>(operatorContext({ uid: 'o' }), badOpen, (r) => r.sensor);
    await expect(opened.open(new RecordingOutput())).rejects.toBeInstanceOf(UserFunctionError);

    const badClose = new CountingFunction();
    badClose.close = () => {
      throw new Error('close failed');
    };
    const closing = await setup(badClose, 'c');
    await expect(closing.op.close()).rejects.toMatchObject({ operatorUid: 'c' });
  });

  it('keeps the innermost attribution when a downstream operator fails', async () => {
    const { op } = await setup();
    const downstream = new UserFunctionError('sink', 0, new Error('disk full'));
    await op.open({
      collect() {
        throw downstream;
      },
      emitWatermark() {},
    });
    expect(() => op.processElement({ sensor: 'a', value: 1 }, 1)).toThrow(downstream);
  });

  it('requires keyed state', () => {
    expect(() => new KeyedProcessOperator(operatorContext({ uid: 'p', keyed: false }), new CountingFunction(), (r: Reading) => r.sensor)).toThrow(/'p'.*keyBy/);
  });
});

describe('KeyedProcessOperator under a manual processing-time clock', () => {
  /** Registers a processing-time timer `delay` after the clock's now; onTimer reports when it ran. */
  class DelayFunction implements KeyedProcessFunctionLike<string, { key: string; delay: number }, unknown> {
    processElement(value: { key: string; delay: number }, ctx: KeyedProcessContext<string>): void {
      ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + value.delay);
    }

    onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<unknown>): void {
      out.collect({ key: ctx.key, timestamp, firedAt: ctx.timerService.currentProcessingTime(), domain: ctx.timeDomain });
    }
  }

  async function manual(startMs: number) {
    const clock = new ManualProcessingTime(startMs);
    const ctx = operatorContext({ uid: 'delay', processingTime: clock });
    const op = new KeyedProcessOperator<string, { key: string; delay: number }, unknown>(ctx, new DelayFunction(), (v) => v.key);
    const out = new RecordingOutput();
    await op.open(out);
    return { clock, op, out };
  }

  it('reads the clock, not Date.now, and fires a timer exactly when time is advanced to it, not before', async () => {
    const { clock, op, out } = await manual(0); // Date.now() is stubbed to 5_000_000: far from the clock
    op.processElement({ key: 'a', delay: 1_000 }, NO_TIMESTAMP);
    expect(clock.nextAt).toBe(1_000);
    clock.advanceTo(999);
    expect(out.records).toEqual([]);
    clock.advanceBy(1);
    expect(out.records).toEqual([{ record: { key: 'a', timestamp: 1_000, firedAt: 1_000, domain: 'processing-time' }, timestamp: NO_TIMESTAMP }]);
    expect(op.snapshotState().timers).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('fires timers of several keys in one advance in timestamp order, each at its own time', async () => {
    const { clock, op, out } = await manual(10_000);
    op.processElement({ key: 'late', delay: 500 }, NO_TIMESTAMP);
    op.processElement({ key: 'early', delay: 100 }, NO_TIMESTAMP);
    clock.advanceTo(10_050);
    op.processElement({ key: 'middle', delay: 200 }, NO_TIMESTAMP); // due at 10_250
    clock.advanceTo(20_000);
    expect(out.records.map((r) => r.record)).toEqual([
      { key: 'early', timestamp: 10_100, firedAt: 10_100, domain: 'processing-time' },
      { key: 'middle', timestamp: 10_250, firedAt: 10_250, domain: 'processing-time' },
      { key: 'late', timestamp: 10_500, firedAt: 10_500, domain: 'processing-time' },
    ]);
  });

  it('a timer restored from a checkpoint fires when the new clock reaches it', async () => {
    const first = await manual(0);
    first.op.processElement({ key: 'k', delay: 300 }, NO_TIMESTAMP);
    const saved = first.op.snapshotState();
    const second = await manual(100);
    second.op.initializeState([saved]);
    second.clock.advanceTo(299);
    expect(second.out.records).toEqual([]);
    second.clock.advanceTo(300);
    expect(second.out.records.map((r) => r.record)).toEqual([{ key: 'k', timestamp: 300, firedAt: 300, domain: 'processing-time' }]);
  });
});
