// Key-group math: stable hashing, subtask/range agreement, tiling and distribution.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_PARALLELISM,
  hashKey,
  keyGroupFor,
  keyGroupRangeContains,
  keyGroupRangeFor,
  keyGroupRangeSize,
  subtaskForKeyGroup,
} from '../../src/state/index.ts';

describe('hashKey', () => {
  it('is a deterministic unsigned 32-bit value for every key type', () => {
    const keys = [0, 1, -1, 42, 2 ** 31, -(2 ** 31), 1.5, -0.25, 1e300, 'a', '', 'hello world', 'ünï©ødé', 0n, 123n, -5n, 2n ** 100n, true, false];
    for (const k of keys) {
      const h = hashKey(k);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
      expect(hashKey(k)).toBe(h);
    }
  });

  it('hashes equal keys equally, including separately built strings and bigints', () => {
    expect(hashKey(['ab', 'c'].join(''))).toBe(hashKey('abc'));
    expect(hashKey(BigInt('12345678901234567890'))).toBe(hashKey(12345678901234567890n));
    expect(hashKey(0.1 + 0.2)).toBe(hashKey(0.30000000000000004));
    expect(hashKey(true)).toBe(hashKey(!false));
  });

  it('treats 0 and -0 as the same key', () => {
    expect(hashKey(-0)).toBe(hashKey(0));
    expect(keyGroupFor(-0, 128)).toBe(keyGroupFor(0, 128));
  });

  it('pins known values so hashes stay stable across releases', () => {
    // A changed hash would silently move every key to another key group and break restored state.
    expect({
      zero: hashKey(0),
      one: hashKey(1),
      minusOne: hashKey(-1),
      oneAndHalf: hashKey(1.5),
      a: hashKey('a'),
      hello: hashKey('hello'),
      empty: hashKey(''),
      sevenN: hashKey(7n),
      true: hashKey(true),
      false: hashKey(false),
    }).toEqual({
      zero: 3541805264,
      one: 2063037532,
      minusOne: 3071656154,
      oneAndHalf: 1830392833,
      a: 2863223161,
      hello: 2163840187,
      empty: 3954623016,
      sevenN: 3901335,
      true: 204790443,
      false: 481272984,
    });
  });

  it('usually distinguishes keys of different types with the same text', () => {
    let differ = 0;
    for (let i = 0; i < 200; i++) {
      if (hashKey(i) !== hashKey(String(i))) differ++;
    }
    expect(differ).toBeGreaterThanOrEqual(198);
    expect(hashKey(1)).not.toBe(hashKey('1'));
    expect(hashKey(1n)).not.toBe(hashKey(1));
    expect(hashKey(true)).not.toBe(hashKey(1));
    expect(hashKey(true)).not.toBe(hashKey(false));
  });

  it('spreads non-integer numbers and strings across distinct hashes', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(hashKey(i + 0.5));
    expect(seen.size).toBe(1000);
    seen.clear();
    for (let i = 0; i < 1000; i++) seen.add(hashKey(`user-${i}`));
    expect(seen.size).toBe(1000);
  });

  it('rejects unsupported key types', () => {
    expect(() => hashKey({} as never)).toThrow(TypeError);
    expect(() => hashKey(undefined as never)).toThrow(/unsupported key type/);
  });

  it('rejects NaN like undefined (it equals no key, itself included), in both hashing entry points', () => {
    expect(() => hashKey(Number.NaN)).toThrow(TypeError);
    expect(() => hashKey(Number.NaN)).toThrow(/unsupported key NaN/);
    expect(() => keyGroupFor(Number.NaN, 128)).toThrow(/unsupported key NaN/);
    // Other non-integer numbers stay keys.
    expect(hashKey(Number.POSITIVE_INFINITY)).toBe(hashKey(Number.POSITIVE_INFINITY));
    expect(hashKey(-0)).toBe(hashKey(0));
  });
});


const parallelismPairs: Array<[number, number]> = [];
for (const maxP of [1, 2, 3, 7, 10, 128, 129, 1000, 32768]) {
  for (const p of [1, 2, 3, 4, 5, 7, 8, 13, 64, 100, 127, 128, 129, 1000, 32768]) {
    if (p <= maxP) parallelismPairs.push([p, maxP]);
  }
  parallelismPairs.push([maxP, maxP]);
}

describe('key group ranges', () => {
  it('tile [0, maxParallelism) with no gap or overlap, each non-empty and balanced', () => {
    // Collect problems instead of asserting per range: tens of thousands of expect() calls are slow.
    const problems: string[] = [];
    for (const [p, maxP] of parallelismPairs) {
      let next = 0;
      for (let i = 0; i < p; i++) {
        const r = keyGroupRangeFor(i, p, maxP);
        const size = keyGroupRangeSize(r);
        if (r.start !== next) problems.push(`p=${p} maxP=${maxP} i=${i}: starts at ${r.start}, expected ${next}`);
        if (size < Math.max(1, Math.floor(maxP / p)) || size > Math.ceil(maxP / p)) {
          problems.push(`p=${p} maxP=${maxP} i=${i}: unbalanced size ${size}`);
        }
        next = r.end + 1;
      }
      if (next !== maxP) problems.push(`p=${p} maxP=${maxP}: ranges end at ${next - 1}`);
    }
    expect(problems).toEqual([]);
    expect(parallelismPairs.length).toBeGreaterThan(50);
  });

  it('agree with subtaskForKeyGroup: every key group belongs to exactly one subtask', () => {
    const problems: string[] = [];
    for (const [p, maxP] of parallelismPairs) {
      const ranges = Array.from({ length: p }, (_, i) => keyGroupRangeFor(i, p, maxP));
      for (let kg = 0; kg < maxP; kg++) {
        const owner = subtaskForKeyGroup(kg, maxP, p);
        if (!(owner >= 0 && owner < p) || !keyGroupRangeContains(ranges[owner], kg)) {
          problems.push(`p=${p} maxP=${maxP} kg=${kg}: subtask ${owner} does not own it`);
        } else if (p <= 200 && ranges.filter((r) => keyGroupRangeContains(r, kg)).length !== 1) {
          problems.push(`p=${p} maxP=${maxP} kg=${kg}: owned by several ranges`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives each key group to itself when parallelism equals maxParallelism', () => {
    for (const n of [1, 5, 128]) {
      for (let kg = 0; kg < n; kg++) {
        expect(subtaskForKeyGroup(kg, n, n)).toBe(kg);
        expect(keyGroupRangeFor(kg, n, n)).toEqual({ start: kg, end: kg });
      }
    }
  });

  it('keyGroupRangeSize and keyGroupRangeContains handle empty ranges', () => {
    expect(keyGroupRangeSize({ start: 3, end: 2 })).toBe(0);
    expect(keyGroupRangeContains({ start: 3, end: 2 }, 3)).toBe(false);
    expect(keyGroupRangeContains({ start: 3, end: 5 }, 5)).toBe(true);
    expect(keyGroupRangeContains({ start: 3, end: 5 }, 6)).toBe(false);
  });
});

describe('keyGroupFor', () => {
  it('stays within [0, maxParallelism)', () => {
    for (const maxP of [1, 7, 128, 32768]) {
      for (const k of [0, -1, 2 ** 53, -1.5, 'x', 99n, true]) {
        const kg = keyGroupFor(k, maxP);
        expect(kg).toBeGreaterThanOrEqual(0);
        expect(kg).toBeLessThan(maxP);
        expect(Number.isInteger(kg)).toBe(true);
      }
    }
  });

  it('spreads 100k sequential integer keys roughly uniformly over 128 groups', () => {
    const counts = new Array<number>(DEFAULT_MAX_PARALLELISM).fill(0);
    const n = 100_000;
    for (let k = 0; k < n; k++) counts[keyGroupFor(k, DEFAULT_MAX_PARALLELISM)]++;
    const mean = n / DEFAULT_MAX_PARALLELISM;
    for (const c of counts) {
      expect(c).toBeGreaterThan(mean * 0.7);
      expect(c).toBeLessThan(mean * 1.3);
    }
  });

  it('spreads string keys roughly uniformly over 128 groups', () => {
    const counts = new Array<number>(DEFAULT_MAX_PARALLELISM).fill(0);
    const n = 100_000;
    for (let k = 0; k < n; k++) counts[keyGroupFor(`key-${k}`, DEFAULT_MAX_PARALLELISM)]++;
    const mean = n / DEFAULT_MAX_PARALLELISM;
    for (const c of counts) {
      expect(c).toBeGreaterThan(mean * 0.7);
      expect(c).toBeLessThan(mean * 1.3);
    }
  });
});
