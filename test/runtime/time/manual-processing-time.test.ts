// ManualProcessingTime: time moves only on advance; due callbacks run in timestamp order, ties in scheduling order.
import { describe, expect, it } from 'vitest';
import { BatonError, InvalidProcessingTimeError, ProcessingTimeBackwardsError } from '../../../src/runtime/errors.ts';
import { ManualProcessingTime } from '../../../src/runtime/time/manual-processing-time.ts';

describe('ManualProcessingTime', () => {
  it('starts at the given time (0 by default) and stays there until advanced', () => {
    expect(new ManualProcessingTime().now()).toBe(0);
    const clock = new ManualProcessingTime(1_000);
    clock.schedule(1_010, () => {});
    expect(clock.now()).toBe(1_000);
    expect(clock.advanceTo(1_005)).toBe(0);
    expect(clock.now()).toBe(1_005);
    expect(clock.advanceBy(3)).toBe(0);
    expect(clock.now()).toBe(1_008);
  });

  it('runs due callbacks in timestamp order, ties in scheduling order, each at its own time', () => {
    const clock = new ManualProcessingTime(0);
    const fired: Array<[string, number]> = [];
    const at = (name: string, ms: number) => clock.schedule(ms, () => fired.push([name, clock.now()]));
    at('c', 30);
    at('a1', 10);
    at('b', 20);
    at('a2', 10);
    at('late', 31);
    expect(clock.pending).toBe(5);
    expect(clock.nextAt).toBe(10);
    expect(clock.advanceTo(30)).toBe(4);
    expect(fired).toEqual([
      ['a1', 10],
      ['a2', 10],
      ['b', 20],
      ['c', 30],
    ]);
    expect(clock.now()).toBe(30);
    expect(clock.pending).toBe(1);
    expect(clock.nextAt).toBe(31);
  });

  it('does not run a callback before its time, and runs it exactly when time reaches it', () => {
    const clock = new ManualProcessingTime(100);
    let fired = 0;
    clock.schedule(200, () => fired++);
    clock.advanceTo(199);
    expect(fired).toBe(0);
    clock.advanceBy(1);
    expect(fired).toBe(1);
    clock.advanceBy(1_000);
    expect(fired).toBe(1);
  });

  it('never runs a callback from inside schedule; one already due runs at the next advance, even by 0', () => {
    const clock = new ManualProcessingTime(50);
    let fired = 0;
    clock.schedule(50, () => fired++);
    clock.schedule(10, () => fired++);
    expect(fired).toBe(0);
    expect(clock.nextAt).toBe(10);
    expect(clock.advanceBy(0)).toBe(2);
    expect(fired).toBe(2);
    // A past due time does not move the clock back.
    expect(clock.now()).toBe(50);
  });

  it('runs callbacks scheduled while advancing when they are due by the target, in order with the rest', () => {
    const clock = new ManualProcessingTime(0);
    const fired: Array<[string, number]> = [];
    // A periodic timer: re-arms at now() + 10, so it ticks at 10, 20, 30, ... as on a real clock.
    const tick = () => {
      fired.push(['tick', clock.now()]);
      clock.schedule(clock.now() + 10, tick);
    };
    clock.schedule(10, tick);
    clock.schedule(25, () => {
      fired.push(['other', clock.now()]);
      clock.schedule(25, () => fired.push(['same-time', clock.now()]));
      clock.schedule(clock.now() - 5, () => fired.push(['past', clock.now()]));
    });
    expect(clock.advanceTo(35)).toBe(6);
    expect(fired).toEqual([
      ['tick', 10],
      ['tick', 20],
      ['other', 25],
      ['past', 25],
      ['same-time', 25],
      ['tick', 30],
    ]);
    expect(clock.now()).toBe(35);
    expect(clock.nextAt).toBe(40);
  });

  it('cancels: a canceled callback never runs, canceling twice or after it ran is harmless', () => {
    const clock = new ManualProcessingTime(0);
    const fired: string[] = [];
    const cancelA = clock.schedule(10, () => fired.push('a'));
    const cancelB = clock.schedule(10, () => fired.push('b'));
    clock.schedule(20, () => fired.push('c'));
    cancelA();
    cancelA();
    expect(clock.pending).toBe(2);
    clock.advanceTo(10);
    cancelB();
    expect(fired).toEqual(['b']);
    expect(clock.pending).toBe(1);
    clock.advanceTo(20);
    expect(fired).toEqual(['b', 'c']);
    expect(clock.pending).toBe(0);
    expect(clock.nextAt).toBeUndefined();
  });

  it('a callback may cancel a later one that is due in the same advance', () => {
    const clock = new ManualProcessingTime(0);
    const fired: string[] = [];
    let cancelLater = () => {};
    clock.schedule(5, () => {
      fired.push('first');
      cancelLater();
    });
    cancelLater = clock.schedule(6, () => fired.push('later'));
    clock.advanceTo(10);
    expect(fired).toEqual(['first']);
  });

  it('refuses to move backwards with a typed error, and leaves time and timers as they were', () => {
    const clock = new ManualProcessingTime(1_000);
    let fired = 0;
    clock.schedule(900, () => fired++);
    const error = (() => {
      try {
        clock.advanceTo(999);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProcessingTimeBackwardsError);
    expect(error).toBeInstanceOf(BatonError);
    expect(error).toMatchObject({ code: 'BATON_ERR_PROCESSING_TIME_BACKWARDS', nowMs: 1_000, requestedMs: 999 });
    expect(() => clock.advanceBy(-1)).toThrow(ProcessingTimeBackwardsError);
    expect(clock.now()).toBe(1_000);
    expect(fired).toBe(0);
    expect(clock.pending).toBe(1);
  });

  it('refuses non-finite times with a typed error', () => {
    expect(() => new ManualProcessingTime(Number.NaN)).toThrow(InvalidProcessingTimeError);
    const clock = new ManualProcessingTime(0);
    expect(() => clock.advanceTo(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: 'BATON_ERR_INVALID_PROCESSING_TIME', what: 'target' }));
    expect(() => clock.advanceBy(Number.NaN)).toThrow(InvalidProcessingTimeError);
    expect(() => clock.schedule(Number.NaN, () => {})).toThrow(expect.objectContaining({ what: 'timer' }));
    // Infinity is a due time that never comes.
    clock.schedule(Number.POSITIVE_INFINITY, () => {
      throw new Error('never');
    });
    clock.advanceTo(Number.MAX_SAFE_INTEGER);
    expect(clock.pending).toBe(1);
  });

  it('a throwing callback stops the advance at its time; the rest stay queued and run on the next advance', () => {
    const clock = new ManualProcessingTime(0);
    const fired: string[] = [];
    clock.schedule(10, () => {
      throw new Error('boom');
    });
    clock.schedule(20, () => fired.push('after'));
    expect(() => clock.advanceTo(30)).toThrow('boom');
    expect(clock.now()).toBe(10);
    expect(clock.pending).toBe(1);
    clock.advanceTo(30);
    expect(fired).toEqual(['after']);
    expect(clock.now()).toBe(30);
  });

  it('an advance from inside a callback moves time on, and the outer advance does not move it back', () => {
    const clock = new ManualProcessingTime(0);
    const fired: Array<[string, number]> = [];
    clock.schedule(10, () => {
      clock.advanceTo(50);
      fired.push(['outer', clock.now()]);
    });
    clock.schedule(40, () => fired.push(['inner', clock.now()]));
    clock.advanceTo(20);
    expect(fired).toEqual([
      ['inner', 40],
      ['outer', 50],
    ]);
    expect(clock.now()).toBe(50);
  });
});
