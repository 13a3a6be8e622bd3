// systemProcessingTime: the wall clock, Date.now() and setTimeout, with far timers that do not overflow.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemProcessingTime } from '../../../src/runtime/time/processing-time-service.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('systemProcessingTime', () => {
  it('reads Date.now() at each call', () => {
    vi.useFakeTimers({ now: 1_234 });
    expect(systemProcessingTime.now()).toBe(1_234);
    vi.setSystemTime(5_000);
    expect(systemProcessingTime.now()).toBe(5_000);
  });

  it('fires once the wall clock reaches the time, not before; a canceled timer never fires', () => {
    vi.useFakeTimers({ now: 10_000 });
    const fired: string[] = [];
    systemProcessingTime.schedule(10_100, () => fired.push('kept'));
    const cancel = systemProcessingTime.schedule(10_050, () => fired.push('canceled'));
    systemProcessingTime.schedule(9_000, () => fired.push('past'));
    expect(fired).toEqual([]); // never from inside schedule
    cancel();
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['past']);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual(['past']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['past', 'kept']);
  });

  it('waits for a timer beyond setTimeout’s 24.8-day limit instead of firing it at once, and can still cancel it', () => {
    vi.useFakeTimers({ now: 0 });
    const day = 86_400_000;
    let fired = 0;
    systemProcessingTime.schedule(30 * day, () => fired++);
    const cancel = systemProcessingTime.schedule(40 * day, () => fired++);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(30 * day - 2);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    cancel(); // the 40-day timer is on its second hop by now
    vi.advanceTimersByTime(20 * day);
    expect(fired).toBe(1);
  });
});
