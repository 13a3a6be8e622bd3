// TimerQueue: firing order, per (key, timestamp) dedup, deletion and due polling.
import { describe, expect, it } from 'vitest';
import { type KeyValue, TimerQueue } from '../../src/state/index.ts';

function drain(q: TimerQueue, upTo = Number.POSITIVE_INFINITY): Array<{ key: KeyValue; timestamp: number }> {
  const out: Array<{ key: KeyValue; timestamp: number }> = [];
  for (let t = q.pollDue(upTo); t !== undefined; t = q.pollDue(upTo)) out.push(t);
  return out;
}

/** Small deterministic PRNG so failures reproduce. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('TimerQueue', () => {
  it('starts empty', () => {
    const q = new TimerQueue();
    expect(q.size).toBe(0);
    expect(q.peekTimestamp()).toBeUndefined();
    expect(q.pollDue(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(q.entries()).toEqual([]);
  });

  it('fires by timestamp, then by registration order for equal timestamps', () => {
    const q = new TimerQueue();
    q.register('c', 30);
    q.register('a', 10);
    q.register('z', 20);
    q.register('b', 10);
    q.register('y', 20);
    q.register('a', 20);
    expect(q.size).toBe(6);
    expect(q.peekTimestamp()).toBe(10);
    const expected = [
      { key: 'a', timestamp: 10 },
      { key: 'b', timestamp: 10 },
      { key: 'z', timestamp: 20 },
      { key: 'y', timestamp: 20 },
      { key: 'a', timestamp: 20 },
      { key: 'c', timestamp: 30 },
    ];
    expect(q.entries()).toEqual(expected);
    expect(drain(q)).toEqual(expected);
    expect(q.size).toBe(0);
  });

  it('deduplicates the same key and timestamp, keeping the first registration order', () => {
    const q = new TimerQueue();
    q.register('a', 5);
    q.register('b', 5);
    q.register('a', 5);
    q.register('a', 5);
    expect(q.size).toBe(2);
    expect(drain(q)).toEqual([
      { key: 'a', timestamp: 5 },
      { key: 'b', timestamp: 5 },
    ]);
  });

  it('distinguishes keys of different types with the same text, and treats -0 as 0', () => {
    const q = new TimerQueue();
    q.register(1, 100);
    q.register('1', 100);
    q.register(1n, 100);
    q.register(true, 100);
    expect(q.size).toBe(4);
    q.register(0, 100);
    q.register(-0, 100);
    expect(q.size).toBe(5);
    q.delete('1', 100);
    expect(q.size).toBe(4);
    expect(q.entries().map((t) => t.key)).toEqual([1, 1n, true, 0]);
  });

  it('the same key may hold timers at several timestamps', () => {
    const q = new TimerQueue();
    q.register('k', 3);
    q.register('k', 1);
    q.register('k', 2);
    expect(q.size).toBe(3);
    expect(drain(q).map((t) => t.timestamp)).toEqual([1, 2, 3]);
  });

  it('delete removes only the matching timer and is a no-op otherwise', () => {
    const q = new TimerQueue();
    q.register('a', 1);
    q.register('b', 1);
    q.register('a', 2);
    q.delete('a', 1);
    q.delete('a', 99);
    q.delete('nobody', 1);
    expect(q.size).toBe(2);
    expect(q.peekTimestamp()).toBe(1);
    expect(drain(q)).toEqual([
      { key: 'b', timestamp: 1 },
      { key: 'a', timestamp: 2 },
    ]);
  });

  it('peekTimestamp skips deleted timers at the head', () => {
    const q = new TimerQueue();
    q.register('a', 1);
    q.register('b', 2);
    q.register('c', 3);
    q.delete('a', 1);
    q.delete('b', 2);
    expect(q.peekTimestamp()).toBe(3);
    expect(q.size).toBe(1);
    q.delete('c', 3);
    expect(q.peekTimestamp()).toBeUndefined();
    expect(q.pollDue(10)).toBeUndefined();
  });

  it('a timer re-registered after deletion fires once, in its new registration order', () => {
    const q = new TimerQueue();
    q.register('a', 7);
    q.register('b', 7);
    q.delete('a', 7);
    q.register('a', 7);
    expect(q.size).toBe(2);
    expect(drain(q)).toEqual([
      { key: 'b', timestamp: 7 },
      { key: 'a', timestamp: 7 },
    ]);
  });

  it('a polled timer can be registered again', () => {
    const q = new TimerQueue();
    q.register('a', 1);
    expect(q.pollDue(1)).toEqual({ key: 'a', timestamp: 1 });
    q.register('a', 1);
    expect(q.size).toBe(1);
    expect(q.pollDue(1)).toEqual({ key: 'a', timestamp: 1 });
  });

  it('pollDue fires timers at exactly upTo but not after it', () => {
    const q = new TimerQueue();
    q.register('a', 10);
    q.register('b', 11);
    expect(q.pollDue(9)).toBeUndefined();
    expect(q.size).toBe(2);
    expect(q.pollDue(10)).toEqual({ key: 'a', timestamp: 10 });
    expect(q.pollDue(10)).toBeUndefined();
    expect(q.peekTimestamp()).toBe(11);
    expect(q.pollDue(10.5)).toBeUndefined();
    expect(q.pollDue(11)).toEqual({ key: 'b', timestamp: 11 });
    expect(q.size).toBe(0);
  });

  it('handles negative and infinite timestamps, and a NaN bound fires nothing', () => {
    const q = new TimerQueue();
    q.register('late', Number.POSITIVE_INFINITY);
    q.register('early', Number.NEGATIVE_INFINITY);
    q.register('neg', -5);
    expect(q.pollDue(Number.NaN)).toBeUndefined();
    expect(q.pollDue(Number.MAX_SAFE_INTEGER)).toEqual({ key: 'early', timestamp: Number.NEGATIVE_INFINITY });
    expect(q.pollDue(Number.MAX_SAFE_INTEGER)).toEqual({ key: 'neg', timestamp: -5 });
    expect(q.pollDue(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(q.pollDue(Number.POSITIVE_INFINITY)).toEqual({ key: 'late', timestamp: Number.POSITIVE_INFINITY });
  });

  it('rejects NaN timestamps', () => {
    const q = new TimerQueue();
    expect(() => q.register('a', Number.NaN)).toThrow(TypeError);
    expect(q.size).toBe(0);
  });

  it('matches a sorted reference under random registers, deletes and polls', () => {
    const rnd = mulberry32(12345);
    const q = new TimerQueue();
    // Reference: live timers with their registration sequence.
    const ref = new Map<string, { key: KeyValue; timestamp: number; seq: number }>();
    const id = (key: KeyValue, ts: number) => `${typeof key}:${String(key)}@${ts}`;
    const sortedRef = () =>
      [...ref.values()]
        .sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq)
        .map(({ key, timestamp }) => ({ key, timestamp }));
    const keyPool: KeyValue[] = [];
    for (let i = 0; i < 40; i++) keyPool.push(i, String(i));
    let seq = 0;
    let watermark = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = rnd();
      const key = keyPool[Math.floor(rnd() * keyPool.length)];
      const ts = watermark + Math.floor(rnd() * 200);
      if (r < 0.55) {
        q.register(key, ts);
        if (!ref.has(id(key, ts))) ref.set(id(key, ts), { key, timestamp: ts, seq: seq++ });
      } else if (r < 0.8) {
        // Delete an existing timer most of the time so deletions actually hit.
        const live = [...ref.values()];
        const victim = live.length > 0 && rnd() < 0.8 ? live[Math.floor(rnd() * live.length)] : { key, timestamp: ts };
        q.delete(victim.key, victim.timestamp);
        ref.delete(id(victim.key, victim.timestamp));
      } else {
        watermark += Math.floor(rnd() * 30);
        const expected = sortedRef().filter((t) => t.timestamp <= watermark);
        expect(drain(q, watermark)).toEqual(expected);
        for (const t of expected) ref.delete(id(t.key, t.timestamp));
      }
      expect(q.size).toBe(ref.size);
      if (step % 500 === 0) {
        expect(q.entries()).toEqual(sortedRef());
        expect(q.peekTimestamp()).toBe(sortedRef()[0]?.timestamp);
      }
    }
    expect(q.entries()).toEqual(sortedRef());
    expect(drain(q)).toEqual(sortedRef());
    expect(q.size).toBe(0);
  });

  it('orders many random timers like a sort by (timestamp, insertion)', () => {
    const rnd = mulberry32(99);
    const q = new TimerQueue();
    const regs: Array<{ key: KeyValue; timestamp: number }> = [];
    for (let i = 0; i < 50_000; i++) {
      const t = { key: i, timestamp: Math.floor(rnd() * 1000) };
      regs.push(t);
      q.register(t.key, t.timestamp);
    }
    // Array.prototype.sort is stable, so equal timestamps keep insertion order.
    const expected = [...regs].sort((a, b) => a.timestamp - b.timestamp);
    expect(q.peekTimestamp()).toBe(expected[0].timestamp);
    expect(drain(q)).toEqual(expected);
  });

  it('keeps working when most timers are deleted (heap compaction)', () => {
    const q = new TimerQueue();
    for (let i = 0; i < 10_000; i++) q.register(i, 10_000 - i);
    for (let i = 0; i < 10_000; i++) if (i % 100 !== 0) q.delete(i, 10_000 - i);
    expect(q.size).toBe(100);
    const fired = drain(q);
    expect(fired.map((t) => t.key)).toEqual(Array.from({ length: 100 }, (_, j) => 9900 - j * 100));
    for (let j = 1; j < fired.length; j++) expect(fired[j].timestamp).toBeGreaterThan(fired[j - 1].timestamp);
  });
});
