// harness: one keyed process function, window or reduce under controlled time, on a real job
// (testJob underneath): timers, windows, state reads, snapshot and restore, typed errors.
import { describe, expect, it } from 'vitest';
import {
  type Collector,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type ListState,
  type MapState,
  type OnTimerContext,
  TumblingEventTimeWindows,
  UserFunctionError,
  type ValueState,
} from '../../src/index.ts';
import { JobConfigError, UnknownOptionError } from '../../src/errors/index.ts';
import { harness, TestDriverStateError } from '../../src/testing/index.ts';

interface Click {
  readonly user: string;
  readonly page?: string;
}

const byUser = (c: Click) => c.user;

/**
 * Counts clicks per user. Each click sets an event-time timer 5 s after it; a user's first click
 * sets a processing-time timer 10 s after it. Every timer reports the count at that moment.
 */
class CountWithTimeouts extends KeyedProcessFunction<string, Click, string> {
  private count!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(_c: Click, ctx: KeyedProcessContext<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    ctx.timerService.registerEventTimeTimer(ctx.timestamp! + 5_000);
    if (n === 1) ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 10_000);
  }
  override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.key} ${ctx.timeDomain} ${timestamp} count=${this.count.value()}`);
  }
}

/** Value, map and list state of one user: clicks, clicks per page, pages in first-seen order. */
class PageStats extends KeyedProcessFunction<string, Click, string> {
  private total!: ValueState<number>;
  private perPage!: MapState<string, number>;
  private seen!: ListState<string>;
  override open(ctx: KeyedRuntimeContext): void {
    this.total = ctx.valueState('total');
    this.perPage = ctx.mapState('per-page');
    this.seen = ctx.listState('seen');
  }
  processElement(c: Click, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const page = c.page ?? '/';
    const n = this.perPage.get(page);
    if (n === undefined) this.seen.add(page);
    this.perPage.put(page, (n ?? 0) + 1);
    this.total.update((this.total.value() ?? 0) + 1);
    out.collect(`${ctx.key}${page}`);
  }
}

const countClicks = { createAccumulator: () => 0, add: (_c: Click, n: number) => n + 1, getResult: (n: number) => n };

describe('harness.process', () => {
  it('fires event-time and processing-time timers exactly when time passes them, and reads state', async () => {
    const h = await harness.process(new CountWithTimeouts(), { key: byUser });
    await h.processElement({ user: 'ann' }, 1_000);
    await h.processElement({ user: 'bob' }, 2_000);
    expect(await h.valueState<number>('count', 'ann')).toBe(1);

    // Event time: the watermark alone moves it.
    await h.processWatermark(5_999);
    expect(h.output).toEqual([]);
    await h.processWatermark(6_000);
    expect(h.outputRecords).toEqual([{ value: 'ann event-time 6000 count=1', timestamp: 6_000, subtaskIndex: 0 }]);

    // Processing time: both first clicks came at 0, so both timers are due at 10 000 exactly.
    await h.setProcessingTime(9_999);
    expect(h.output).toHaveLength(1);
    await h.advanceProcessingTime(1);
    expect(h.processingTime).toBe(10_000);
    expect(h.output.slice(1).sort()).toEqual(['ann processing-time 10000 count=1', 'bob processing-time 10000 count=1']);
    expect(h.outputRecords[1].timestamp).toBeUndefined();

    await h.processElement({ user: 'ann' }, 3_000);
    await h.processWatermark(7_000);
    expect(h.output.slice(3)).toEqual(['bob event-time 7000 count=1']);
    await h.processWatermark(8_000);
    expect(h.output.slice(4)).toEqual(['ann event-time 8000 count=2']);
    await h.close();
  });

  it('reads value, map and list state per key; a factory gives each of 2 subtasks its own instance', async () => {
    const made: PageStats[] = [];
    const h = await harness.process(
      () => {
        const fn = new PageStats();
        made.push(fn);
        return fn;
      },
      { key: byUser, parallelism: 2, stateBackend: 'heap' },
    );
    await h.processElements([
      { value: { user: 'ann', page: '/home' } },
      { value: { user: 'bob', page: '/cart' } },
      { value: { user: 'ann', page: '/cart' } },
      { value: { user: 'ann', page: '/home' } },
    ]);
    expect(h.output.sort()).toEqual(['ann/cart', 'ann/home', 'ann/home', 'bob/cart']);
    // Both keys' records went to different subtasks here (so state reads span subtasks).
    expect(new Set(h.outputRecords.map((r) => r.subtaskIndex))).toEqual(new Set([0, 1]));
    expect(await h.valueState<number>('total', 'ann')).toBe(3);
    expect((await h.mapState<string, number>('per-page', 'ann')).sort()).toEqual([['/cart', 1], ['/home', 2]]);
    expect(await h.listState<string>('seen', 'ann')).toEqual(['/home', '/cart']);
    expect(await h.listState<string>('seen', 'bob')).toEqual(['/cart']);
    expect(await h.valueState<number>('total', 'cid')).toBeUndefined();
    expect(made.length).toBeGreaterThanOrEqual(2);
    await h.close();
  });
});

describe('harness.window', () => {
  it('fires a tumbling window when the watermark passes its end and drops records of fired windows', async () => {
    const h = await harness.window(TumblingEventTimeWindows.of(60_000), countClicks, (user, w, n) => `${user}@${w.start}=${n}`, { key: byUser });
    await h.processElements([
      { value: { user: 'ann' }, timestamp: 1_000 },
      { value: { user: 'ann' }, timestamp: 30_000 },
      { value: { user: 'bob' }, timestamp: 59_999 },
      { value: { user: 'ann' }, timestamp: 61_000 },
    ]);
    expect(await h.pendingWindows('ann')).toEqual([
      { window: { start: 0, end: 60_000 }, accumulator: 2 },
      { window: { start: 60_000, end: 120_000 }, accumulator: 1 },
    ]);
    await h.processWatermark(59_998);
    expect(h.output).toEqual([]);
    await h.processWatermark(59_999);
    expect(h.output.sort()).toEqual(['ann@0=2', 'bob@0=1']);
    expect(h.outputRecords.map((r) => r.timestamp)).toEqual([59_999, 59_999]);

    // Late: its window [0, 60 000) has fired, so the operator drops it (nothing reopens, nothing
    // emits). A lower watermark in between does not move event time back, as in a job.
    await h.processWatermark(30_000);
    await h.processElement({ user: 'ann' }, 10_000);
    expect(await h.pendingWindows('ann')).toEqual([{ window: { start: 60_000, end: 120_000 }, accumulator: 1 }]);
    await h.processWatermark(119_999);
    expect(h.output.slice(2)).toEqual(['ann@60000=1']);
    expect(await h.pendingWindows('ann')).toEqual([]);
    await h.close();
  });

  it('emits the aggregate result itself without a result function', async () => {
    const h = await harness.window(TumblingEventTimeWindows.of(1_000), countClicks, { key: byUser, stateBackend: 'heap' });
    await h.processElements([{ value: { user: 'ann' }, timestamp: 100 }, { value: { user: 'ann' }, timestamp: 900 }]);
    await h.processWatermark(999);
    const counts: number[] = h.output;
    expect(counts).toEqual([2]);
    await h.close();
  });
});

describe('harness.reduce', () => {
  it('emits the rolling reduced value per key with the element timestamps, and reads it', async () => {
    interface Sale {
      readonly shop: string;
      readonly amount: number;
    }
    const h = await harness.reduce((a: Sale, b: Sale) => ({ shop: a.shop, amount: a.amount + b.amount }), { key: (s: Sale) => s.shop });
    await h.processElement({ shop: 'x', amount: 3 }, 10);
    await h.processElement({ shop: 'y', amount: 1 }, 20);
    await h.processElement({ shop: 'x', amount: 4 }, 30);
    expect(h.outputRecords.map((r) => [r.value.shop, r.value.amount, r.timestamp])).toEqual([
      ['x', 3, 10],
      ['y', 1, 20],
      ['x', 7, 30],
    ]);
    expect(await h.reduced('x')).toEqual({ shop: 'x', amount: 7 });
    expect(await h.reduced('z')).toBeUndefined();
    await h.close();
  });
});

describe('harness: snapshot and restore', () => {
  it('a new harness continues from the snapshot: state, pending timers of both domains and processing time, nothing pushed after it', async () => {
    const h1 = await harness.process(() => new CountWithTimeouts(), { key: byUser, startTime: 1_000 });
    await h1.processElement({ user: 'ann' }, 1_000);
    await h1.processElement({ user: 'bob' }, 2_000);
    await h1.setProcessingTime(3_000);
    const snap = await h1.snapshot();
    expect(snap.processingTime).toBe(3_000);
    // After the snapshot: not part of it, and not replayed into the restored harness.
    await h1.processElement({ user: 'ann' }, 2_500);
    expect(await h1.valueState<number>('count', 'ann')).toBe(2);
    await h1.close();

    // Restored at another parallelism: keys move to their new subtasks with their timers.
    const h2 = await harness.process(() => new CountWithTimeouts(), { key: byUser, restoreFrom: snap, parallelism: 2 });
    expect(h2.processingTime).toBe(3_000);
    expect(await h2.valueState<number>('count', 'ann')).toBe(1);
    expect(await h2.valueState<number>('count', 'bob')).toBe(1);
    expect(h2.output).toEqual([]);
    // The processing-time timers set at 1 000 are due at 11 000.
    await h2.advanceProcessingTime(7_999);
    expect(h2.output).toEqual([]);
    await h2.advanceProcessingTime(1);
    expect(h2.output.sort()).toEqual(['ann processing-time 11000 count=1', 'bob processing-time 11000 count=1']);
    // The event-time timers (6 000, 7 000) fire on the restored harness's watermark; state goes on.
    await h2.processElement({ user: 'ann' }, 4_000);
    await h2.processWatermark(6_000);
    expect(h2.output.slice(2)).toEqual(['ann event-time 6000 count=2']);
    await h2.processWatermark(10_000);
    expect(h2.output.slice(3).sort()).toEqual(['ann event-time 9000 count=2', 'bob event-time 7000 count=1']);
    await h2.close();
  });

  it('one snapshot restores into several harnesses while the original runs on: each goes its own way', async () => {
    const sum = (a: number, b: number) => a + b;
    const parity = (n: number) => (n % 2 === 0 ? 'even' : 'odd');
    const h1 = await harness.reduce(sum, { key: parity });
    await h1.processElements([{ value: 1 }, { value: 2 }]);
    const snap = await h1.snapshot();
    const [h2, h3] = await Promise.all([harness.reduce(sum, { key: parity, restoreFrom: snap }), harness.reduce(sum, { key: parity, restoreFrom: snap })]);
    await h1.processElement(3);
    await h2.processElement(5);
    await h3.processElement(7);
    // Each takes a snapshot of its own and restores from it (no run fences another).
    const snaps = await Promise.all([h1.snapshot(), h2.snapshot(), h3.snapshot()]);
    await Promise.all([h1.close(), h2.close(), h3.close()]);
    const restored = await Promise.all(snaps.map((s) => harness.reduce(sum, { key: parity, restoreFrom: s })));
    expect(await Promise.all(restored.map((h) => h.reduced('odd')))).toEqual([4, 6, 8]);
    expect(await Promise.all(restored.map((h) => h.reduced('even')))).toEqual([2, 2, 2]);
    await Promise.all(restored.map((h) => h.close()));
  });

  it('restores a window: pending windows fire after the restore', async () => {
    const h1 = await harness.window(TumblingEventTimeWindows.of(60_000), countClicks, { key: byUser });
    await h1.processElements([{ value: { user: 'ann' }, timestamp: 1_000 }, { value: { user: 'ann' }, timestamp: 2_000 }]);
    const snap = await h1.snapshot();
    await h1.close();
    const h2 = await harness.window(TumblingEventTimeWindows.of(60_000), countClicks, { key: byUser, restoreFrom: snap });
    expect(await h2.pendingWindows('ann')).toEqual([{ window: { start: 0, end: 60_000 }, accumulator: 2 }]);
    await h2.processElement({ user: 'ann' }, 3_000);
    await h2.processWatermark(60_000);
    expect(h2.output).toEqual([3]);
    await h2.close();
  });
});

describe('harness: errors', () => {
  it('rejects an instance at parallelism above 1, and an instance a running harness already uses', async () => {
    await expect(harness.process(new CountWithTimeouts(), { key: byUser, parallelism: 2 })).rejects.toThrow(JobConfigError);
    const fn = new CountWithTimeouts();
    const h = await harness.process(fn, { key: byUser });
    await expect(harness.process(fn, { key: byUser })).rejects.toThrow(/runs in another harness/);
    await h.close();
    const again = await harness.process(fn, { key: byUser });
    await again.close();
  });

  it('names a misspelled option and refuses a snapshot of another kind of harness', async () => {
    await expect(harness.reduce((a: number) => a, { key: (n: number) => n, paralelism: 2 } as never)).rejects.toThrow(UnknownOptionError);
    const h = await harness.reduce((a: number, b: number) => a + b, { key: (n: number) => n % 2 });
    const snap = await h.snapshot();
    await h.close();
    await expect(harness.process(new CountWithTimeouts(), { key: byUser, restoreFrom: snap })).rejects.toThrow(/a snapshot of a reduce harness cannot be restored into a process harness/);
  });

  it('a throwing function rejects the step with a UserFunctionError, and the harness has ended', async () => {
    const h = await harness.reduce(
      (a: number, b: number) => {
        if (b < 0) throw new Error(`negative: ${b}`);
        return a + b;
      },
      { key: () => 'all' },
    );
    await h.processElement(1);
    const error = await h.processElement(-1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserFunctionError);
    expect((error as UserFunctionError).originalMessage).toBe('negative: -1');
    expect((error as UserFunctionError).operatorUid).toBe('function');
    await expect(h.processElement(2)).rejects.toThrow();
    await h.close();
  });

  it('a window element without event time fails the step, as in a job without timestamps', async () => {
    const h = await harness.window(TumblingEventTimeWindows.of(1_000), countClicks, { key: byUser });
    await expect(h.processElement({ user: 'ann' })).rejects.toThrow(/record has no event timestamp/);
    await h.close();
  });

  it('a closed harness refuses steps', async () => {
    const h = await harness.process(new CountWithTimeouts(), { key: byUser });
    await h.close();
    await expect(h.processElement({ user: 'ann' }, 1)).rejects.toThrow(TestDriverStateError);
    await expect(h.processWatermark(1)).rejects.toThrow(TestDriverStateError);
  });
});
