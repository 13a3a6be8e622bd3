// Storage key validation, joining and ordering, and the bounded-concurrency helper.
import { describe, expect, it } from 'vitest';
import {
  compareKeys,
  InvalidStorageKeyError,
  joinKey,
  mapWithConcurrency,
  normalizeListPrefix,
  validateStorageKey,
} from '../../../src/checkpoint/storage/index.ts';
import { BatonError } from '../../../src/runtime/errors.ts';

describe('validateStorageKey', () => {
  it('accepts relative slash-separated keys', () => {
    for (const key of ['a', 'chk-117/_metadata', 'shared/ab12cd', 'a/b/c/d.bin', '.hidden', '..x', 'x..', 'a b/ü']) {
      expect(validateStorageKey(key)).toBe(key);
    }
  });

  it('rejects keys that could escape the root or are malformed, naming key and reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['/abs', /absolute/],
      ['../x', /'\.\.'/],
      ['a/../../b', /'\.\.'/],
      ['a/./b', /'\.'/],
      ['.', /'\.'/],
      ['a//b', /empty segment/],
      ['a/', /empty segment/],
      ['a\\b', /backslash/],
      ['a\0b', /NUL/],
      ['x/y.tmp-1', /reserved/],
    ];
    for (const [key, reason] of cases) {
      let error: unknown;
      try {
        validateStorageKey(key);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(key)).toBeInstanceOf(InvalidStorageKeyError);
      expect(error).toBeInstanceOf(BatonError);
      expect((error as InvalidStorageKeyError).key).toBe(key);
      expect((error as InvalidStorageKeyError).reason).toMatch(reason);
    }
    expect(() => validateStorageKey('a\0b')).toThrow(/\\u0000/);
  });
});

describe('joinKey, normalizeListPrefix, compareKeys', () => {
  it('joins parts with / and validates the result', () => {
    expect(joinKey('orders', 'chk-117', '_metadata')).toBe('orders/chk-117/_metadata');
    expect(joinKey('orders/shared', 'c1')).toBe('orders/shared/c1');
    expect(() => joinKey('orders', '', 'x')).toThrow(InvalidStorageKeyError);
    expect(() => joinKey('orders', '..')).toThrow(InvalidStorageKeyError);
    expect(() => joinKey()).toThrow(InvalidStorageKeyError);
  });

  it('treats a list prefix as a folder', () => {
    expect(normalizeListPrefix('')).toBe('');
    expect(normalizeListPrefix('chk-1')).toBe('chk-1');
    expect(normalizeListPrefix('chk-1/')).toBe('chk-1');
    expect(() => normalizeListPrefix('/')).toThrow(InvalidStorageKeyError);
    expect(() => normalizeListPrefix('a//')).toThrow(InvalidStorageKeyError);
  });

  it('orders keys as plain strings', () => {
    expect(['b', 'a/b', 'a-b', 'a', 'B'].sort(compareKeys)).toEqual(['B', 'a', 'a-b', 'a/b', 'b']);
  });
});

describe('mapWithConcurrency', () => {
  it('keeps order and never exceeds the limit', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3, 0, 6], 3, async (n, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10 + i;
    });
    expect(out).toEqual([50, 11, 42, 23, 34, 5, 66]);
    expect(peak).toBe(3);
  });

  it('stops starting work after a failure, waits for running calls, then rejects with the first error', async () => {
    const started: number[] = [];
    let finished = 0;
    const run = mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, n === 1 ? 20 : 1));
      finished++;
      if (n === 0) throw new Error('boom 0');
    });
    await expect(run).rejects.toThrow('boom 0');
    expect(started).toEqual([0, 1]);
    expect(finished).toBe(2);
  });

  it('handles empty input and rejects a bad limit', async () => {
    expect(await mapWithConcurrency([], 4, async () => 1)).toEqual([]);
    await expect(mapWithConcurrency([1], 0, async () => 1)).rejects.toThrow(RangeError);
  });
});
