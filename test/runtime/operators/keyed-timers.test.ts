// KeyedTimers: event-time timers fire on watermarks in order; processing-time timers via the scheduler.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyedTimers, type TimerDomain } from '../../../src/runtime/operators/keyed-timers.ts';
import type { KeyValue } from '../../../src/state/types.ts';
import { operatorContext, type TestContext } from '../fixtures.ts';

let now = 1_000_000;

beforeEach(() => {
  now = 1_000_000;
  vi.spyOn(Date, 'now').mockImplementation(() => now);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function setup(onFire?: (key: KeyValue, ts: number, domain: TimerDomain, timers: KeyedTimers) => void) {
  const ctx: TestContext = operatorContext({ keyed: false });
  const fired: Array<[KeyValue, number, TimerDomain]> = [];
  const timers: KeyedTimers = new KeyedTimers(ctx, (key, ts, domain) => {
    fired.push([key, ts, domain]);
    onFire?.(key, ts, domain, timers);
  });
  return { ctx, fired, timers };
}

describe('KeyedTimers event time', () => {
  it('fires timers at or before the watermark in timestamp order, each once', () => {
    const { fired, timers } = setup();
    timers.registerEventTime('b', 20);
    timers.registerEventTime('a', 10);
    timers.registerEventTime('a', 30);
    timers.registerEventTime('a', 10); // duplicate
    expect(timers.pendingTimers()).toBe(3);
    timers.advanceWatermark(9);
    expect(fired).toEqual([]);
    expect(timers.currentWatermark()).toBe(9);
    timers.advanceWatermark(20);
    expect(fired).toEqual([
      ['a', 10, 'event-time'],
      ['b', 20, 'event-time'],
    ]);
    timers.advanceWatermark(25);
    expect(fired).toHaveLength(2);
    timers.advanceWatermark(30);
    expect(fired[2]).toEqual(['a', 30, 'event-time']);
    expect(timers.pendingTimers()).toBe(0);
  });

  it('does not fire a deleted timer', () => {
    const { fired, timers } = setup();
    timers.registerEventTime('a', 10);
    timers.registerEventTime('b', 10);
    timers.deleteEventTime('a', 10);
    timers.advanceWatermark(100);
    expect(fired).toEqual([['b', 10, 'event-time']]);
  });

  it('fires timers registered while firing when they are already due', () => {
    const { fired, timers } = setup((key, ts, _domain, t) => {
      if (ts === 10) t.registerEventTime(key, 15);
    });
    timers.registerEventTime('a', 10);
    timers.advanceWatermark(20);
    expect(fired.map((f) => f[1])).toEqual([10, 15]);
  });

  it('starts at the minimum watermark', () => {
    expect(setup().timers.currentWatermark()).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('KeyedTimers processing time', () => {
  it('schedules a callback for the earliest timer and fires what is due when it runs', () => {
    const { ctx, fired, timers } = setup();
    timers.registerProcessingTime('a', now + 100);
    expect(ctx.scheduled.map((s) => s.atMs)).toEqual([now + 100]);
    timers.registerProcessingTime('b', now + 300); // later: no new callback
    expect(ctx.scheduled).toHaveLength(1);
    timers.registerProcessingTime('c', now + 50); // earlier: reschedule
    expect(ctx.scheduled.map((s) => [s.atMs, s.canceled])).toEqual([
      [now + 100, true],
      [now + 50, false],
    ]);

    now += 100;
    ctx.fireScheduled();
    expect(fired).toEqual([
      ['c', 1_000_050, 'processing-time'],
      ['a', 1_000_100, 'processing-time'],
    ]);
    // the remaining timer got its own callback
    expect(ctx.scheduled.at(-1)).toMatchObject({ atMs: now + 200, canceled: false });
    now += 200;
    ctx.fireScheduled();
    expect(fired.at(-1)).toEqual(['b', 1_000_300, 'processing-time']);
    expect(timers.pendingTimers()).toBe(0);
  });

  it('fires nothing early if the callback runs before the timer is due, and reschedules', () => {
    const { ctx, fired, timers } = setup();
    timers.registerProcessingTime('a', now + 100);
    now += 10;
    ctx.fireScheduled();
    expect(fired).toEqual([]);
    expect(ctx.scheduled.filter((s) => !s.canceled).map((s) => s.atMs)).toEqual([1_000_100]);
  });

  it('fires every pending processing-time timer in order at end of input and cancels the callback', () => {
    const { ctx, fired, timers } = setup();
    timers.registerProcessingTime('late', now + 3_600_000);
    timers.registerProcessingTime('early', now + 1_000);
    timers.fireAllProcessingTimers();
    expect(fired).toEqual([
      ['early', now + 1_000, 'processing-time'],
      ['late', now + 3_600_000, 'processing-time'],
    ]);
    expect(ctx.scheduled.every((s) => s.canceled)).toBe(true);
    expect(timers.pendingTimers()).toBe(0);
  });

  it('cancels its scheduled callback on dispose', () => {
    const { ctx, timers } = setup();
    timers.registerProcessingTime('a', now + 100);
    timers.dispose();
    expect(ctx.scheduled[0].canceled).toBe(true);
  });
});

describe('KeyedTimers at the end of input', () => {
  it('fires only the processing-time timers pending at end of input, even if onTimer re-registers', () => {
    const { fired, timers } = setup((key, ts, _domain, t) => {
      if (fired.length > 100) throw new Error('endless re-firing');
      t.registerProcessingTime(key, ts + 1000);
    });
    timers.registerProcessingTime('k', now + 1000);
    timers.registerProcessingTime('j', now + 500);
    timers.fireAllProcessingTimers();
    expect(fired).toEqual([
      ['j', now + 500, 'processing-time'],
      ['k', now + 1000, 'processing-time'],
    ]);
  });

  it('fires each pending event-time timer once on the final watermark, even if onTimer re-registers', () => {
    const { fired, timers } = setup((key, ts, _domain, t) => {
      if (fired.length > 100) throw new Error('endless re-firing');
      t.registerEventTime(key, ts + 1000);
    });
    timers.registerEventTime('k', 10);
    timers.advanceWatermark(Number.POSITIVE_INFINITY);
    expect(fired).toEqual([['k', 10, 'event-time']]);
  });
});
