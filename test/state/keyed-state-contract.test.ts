// The KeyedStateBackend contract, run against both the heap and the LMDB backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeapKeyedStateBackend } from '../../src/state/heap/heap-keyed-state-backend.ts';
import { keyGroupRangeFor } from '../../src/state/key-groups.ts';
import { LmdbKeyedStateBackend, openStateEnvironment } from '../../src/state/lmdb/lmdb-keyed-state-backend.ts';
import type { KeyedStateBackend, KeyGroupRange } from '../../src/state/types.ts';

type Factory = (keyGroupRange: KeyGroupRange, maxParallelism: number) => KeyedStateBackend;

let dir: string;
let env: RootDatabase;
let dbCounter = 0;
const live: KeyedStateBackend[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-contract-'));
  env = openStateEnvironment(dir);
});

afterEach(() => {
  for (const b of live.splice(0)) b.dispose();
});

afterAll(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

const factories: Array<[string, Factory]> = [
  ['HeapKeyedStateBackend', (keyGroupRange, maxParallelism) => new HeapKeyedStateBackend({ keyGroupRange, maxParallelism })],
  [
    'LmdbKeyedStateBackend',
    (keyGroupRange, maxParallelism) =>
      new LmdbKeyedStateBackend({ env, dbName: `contract-${dbCounter++}`, keyGroupRange, maxParallelism }),
  ],
];

describe.each(factories)('%s (KeyedStateBackend contract)', (_name, factory) => {
  function create(keyGroupRange: KeyGroupRange, maxParallelism: number): KeyedStateBackend {
    const b = factory(keyGroupRange, maxParallelism);
    live.push(b);
    return b;
  }

  function backend(maxParallelism = 128): KeyedStateBackend {
    return create({ start: 0, end: maxParallelism - 1 }, maxParallelism);
  }

  describe('construction and current key', () => {
    it('exposes its key group range', () => {
      const b = create(keyGroupRangeFor(1, 4, 128), 128);
      expect(b.keyGroupRange).toEqual({ start: 32, end: 63 });
    });

    it('rejects invalid maxParallelism and key group ranges', () => {
      expect(() => create({ start: 0, end: 0 }, 0)).toThrow(RangeError);
      expect(() => create({ start: 0, end: 0 }, 1.5)).toThrow(RangeError);
      expect(() => create({ start: 0, end: 128 }, 128)).toThrow(/keyGroupRange/);
      expect(() => create({ start: -1, end: 3 }, 128)).toThrow(/keyGroupRange/);
      expect(() => create({ start: 5, end: 2 }, 128)).toThrow(/keyGroupRange/);
      // The empty range of an idle subtask (parallelism > maxParallelism) is allowed.
      expect(() => create({ start: 5, end: 4 }, 128)).not.toThrow();
    });

    it('returns the current key and fails clearly before one is set', () => {
      const b = backend();
      expect(() => b.getCurrentKey()).toThrow(/no current key/);
      expect(() => b.valueState<number>('v').value()).toThrow(/no current key/);
      expect(() => b.valueState<number>('v').update(1)).toThrow(/no current key/);
      expect(() => b.mapState<string, number>('m').put('a', 1)).toThrow(/no current key/);
      expect(() => b.listState<number>('l').get()).toThrow(/no current key/);
      b.setCurrentKey('k1');
      expect(b.getCurrentKey()).toBe('k1');
      b.setCurrentKey(7n);
      expect(b.getCurrentKey()).toBe(7n);
      b.setCurrentKey(false);
      expect(b.getCurrentKey()).toBe(false);
      b.setCurrentKey(0);
      expect(b.getCurrentKey()).toBe(0);
      b.setCurrentKey(-0);
      expect(Object.is(b.getCurrentKey(), -0)).toBe(true);
    });
  });

  describe('handles', () => {
    it('caches handles per name and kind', () => {
      const b = backend();
      expect(b.valueState('a')).toBe(b.valueState('a'));
      expect(b.mapState('m')).toBe(b.mapState('m'));
      expect(b.listState('l')).toBe(b.listState('l'));
      expect(b.valueState('a')).not.toBe(b.valueState('b'));
    });

    it('throws an error naming the state when a name is reused with another kind', () => {
      const b = backend();
      b.valueState('count');
      expect(() => b.mapState('count')).toThrow(/state "count".*value.*map/);
      expect(() => b.listState('count')).toThrow(/"count"/);
      b.listState('items');
      expect(() => b.valueState('items')).toThrow(/state "items".*list.*value/);
      b.setCurrentKey(1);
      b.valueState<number>('count').update(3);
      expect(b.valueState<number>('count').value()).toBe(3);
    });

    it('a handle obtained once follows later key changes', () => {
      const b = backend();
      const v = b.valueState<string>('v');
      b.setCurrentKey('a');
      v.update('A');
      b.setCurrentKey('b');
      expect(v.value()).toBeUndefined();
      v.update('B');
      b.setCurrentKey('a');
      expect(v.value()).toBe('A');
      b.setCurrentKey('b');
      expect(v.value()).toBe('B');
    });
  });

  describe('ValueState', () => {
    it('isolates keys and states', () => {
      const b = backend();
      const count = b.valueState<number>('count');
      const label = b.valueState<string>('label');
      for (let k = 0; k < 100; k++) {
        b.setCurrentKey(k);
        count.update(k * 10);
        label.update(`L${k}`);
      }
      for (let k = 99; k >= 0; k--) {
        b.setCurrentKey(k);
        expect(count.value()).toBe(k * 10);
        expect(label.value()).toBe(`L${k}`);
      }
      expect(b.keyCount()).toBe(100);
    });

    it('keeps keys of different types apart and treats -0 as 0', () => {
      const b = backend();
      const v = b.valueState<string>('v');
      const keys = [1, '1', 1n, true] as const;
      for (const k of keys) {
        b.setCurrentKey(k);
        v.update(`${typeof k}`);
      }
      for (const k of keys) {
        b.setCurrentKey(k);
        expect(v.value()).toBe(typeof k);
      }
      expect(b.keyCount()).toBe(4);
      b.setCurrentKey(0);
      v.update('zero');
      b.setCurrentKey(-0);
      expect(v.value()).toBe('zero');
      expect(b.keyCount()).toBe(5);
    });

    it('keeps string keys that share a prefix or differ only in unusual characters apart', () => {
      const b = backend();
      const v = b.valueState<number>('v');
      const keys = ['', 'a', 'ab', 'a\0', 'a\0b', '\u00e9', '\ud800', '\udc00', '\ud83d\ude00', 'x'.repeat(500)];
      keys.forEach((k, i) => {
        b.setCurrentKey(k);
        v.update(i);
      });
      keys.forEach((k, i) => {
        b.setCurrentKey(k);
        expect(v.value()).toBe(i);
      });
      expect(b.keyCount()).toBe(keys.length);
    });

    it('returns undefined for absent keys, and clear removes the entry', () => {
      const b = backend();
      const v = b.valueState<number>('v');
      b.setCurrentKey('x');
      expect(v.value()).toBeUndefined();
      expect(b.keyCount()).toBe(0);
      v.update(0);
      expect(v.value()).toBe(0);
      expect(b.keyCount()).toBe(1);
      v.clear();
      expect(v.value()).toBeUndefined();
      expect(b.keyCount()).toBe(0);
    });

    it('stores falsy values and treats update(undefined) as clear', () => {
      const b = backend();
      const v = b.valueState<number | string | boolean | null | undefined>('v');
      b.setCurrentKey(1);
      for (const x of [0, '', false, null]) {
        v.update(x);
        expect(v.value()).toBe(x);
        expect(b.keyCount()).toBe(1);
      }
      v.update(undefined);
      expect(b.keyCount()).toBe(0);
    });

    it('stores structured values', () => {
      const b = backend();
      const v = b.valueState<unknown>('v');
      b.setCurrentKey('k');
      const values: unknown[] = [
        { a: 1, nested: { list: [1, 'two', null], flag: true } },
        [1, [2, [3]]],
        new Map<unknown, unknown>([
          [1, 'one'],
          ['two', { x: 2 }],
        ]),
        new Set([1, 2, 3]),
        2n ** 80n,
        -12.5,
        'text',
        new Date(1_700_000_000_000),
      ];
      for (const x of values) {
        v.update(x);
        expect(v.value()).toEqual(x);
      }
    });
  });

  describe('MapState', () => {
    it('puts, gets, checks and iterates per key', () => {
      const b = backend();
      const m = b.mapState<string, number>('m');
      b.setCurrentKey('k1');
      expect(m.isEmpty()).toBe(true);
      m.put('a', 1);
      m.put('b', 2);
      m.put('a', 3);
      b.setCurrentKey('k2');
      expect(m.isEmpty()).toBe(true);
      expect(m.get('a')).toBeUndefined();
      expect(m.contains('a')).toBe(false);
      expect([...m.entries()]).toEqual([]);
      expect([...m.keys()]).toEqual([]);
      expect([...m.values()]).toEqual([]);
      m.put('z', 26);
      b.setCurrentKey('k1');
      expect(m.isEmpty()).toBe(false);
      expect(m.get('a')).toBe(3);
      expect(m.contains('b')).toBe(true);
      expect(m.contains('z')).toBe(false);
      expect([...m.entries()]).toEqual([
        ['a', 3],
        ['b', 2],
      ]);
      expect([...m.keys()]).toEqual(['a', 'b']);
      expect([...m.values()]).toEqual([3, 2]);
      expect(b.keyCount()).toBe(2);
    });

    it('keeps map keys of different types and shared prefixes apart', () => {
      const b = backend();
      const m = b.mapState<string | number | bigint | boolean, string>('m');
      b.setCurrentKey('user');
      const keys = ['a', 'ab', 1, 10, '1', 1n, true, false, -0.5, ''];
      for (const k of keys) m.put(k, `v:${typeof k}:${String(k)}`);
      for (const k of keys) expect(m.get(k)).toBe(`v:${typeof k}:${String(k)}`);
      expect(new Set(m.keys())).toEqual(new Set(keys));
      expect(new Map(m.entries()).size).toBe(keys.length);
      expect(m.get(100)).toBeUndefined();
      // Another user key whose encoding extends this one's must not see these entries.
      b.setCurrentKey('userx');
      expect(m.isEmpty()).toBe(true);
      expect([...m.keys()]).toEqual([]);
    });

    it('stores undefined and structured map values', () => {
      const b = backend();
      const m = b.mapState<number, unknown>('m');
      b.setCurrentKey(1);
      m.put(1, undefined);
      expect(m.contains(1)).toBe(true);
      expect(m.get(1)).toBeUndefined();
      expect(m.isEmpty()).toBe(false);
      m.put(2, { deep: [1, { x: 'y' }] });
      expect(m.get(2)).toEqual({ deep: [1, { x: 'y' }] });
    });

    it('drops the key entry when its map becomes empty', () => {
      const b = backend();
      const m = b.mapState<number, string>('m');
      b.setCurrentKey('k');
      m.put(1, 'one');
      m.put(2, 'two');
      m.remove(1);
      expect(b.keyCount()).toBe(1);
      expect(m.isEmpty()).toBe(false);
      m.remove(2);
      expect(m.isEmpty()).toBe(true);
      expect(b.keyCount()).toBe(0);
      // Removing from an absent key is a harmless no-op.
      m.remove(3);
      expect(b.keyCount()).toBe(0);
      m.put(5, 'five');
      expect(m.get(5)).toBe('five');
    });

    it('clear removes the whole map of the current key only', () => {
      const b = backend();
      const m = b.mapState<string, number>('m');
      b.setCurrentKey('a');
      m.put('x', 1);
      b.setCurrentKey('b');
      m.put('y', 2);
      m.clear();
      expect(m.isEmpty()).toBe(true);
      expect(b.keyCount()).toBe(1);
      b.setCurrentKey('a');
      expect(m.get('x')).toBe(1);
    });

    it('an iterator belongs to the key that was current when it was created', () => {
      const b = backend();
      const m = b.mapState<string, number>('m');
      b.setCurrentKey('a');
      m.put('x', 1);
      b.setCurrentKey('b');
      m.put('y', 2);
      b.setCurrentKey('a');
      const entries = m.entries();
      const keys = m.keys();
      b.setCurrentKey('b');
      expect([...entries]).toEqual([['x', 1]]);
      expect([...keys]).toEqual(['x']);
      expect([...m.values()]).toEqual([2]);
    });

    it('allows removing entries while iterating', () => {
      const b = backend();
      const m = b.mapState<number, number>('m');
      b.setCurrentKey('k');
      for (let i = 0; i < 10; i++) m.put(i, i * i);
      for (const [k] of m.entries()) if (k % 2 === 0) m.remove(k);
      expect(new Set(m.keys())).toEqual(new Set([1, 3, 5, 7, 9]));
    });
  });

  describe('ListState', () => {
    it('returns an empty array when absent and appends per key', () => {
      const b = backend();
      const l = b.listState<number>('l');
      b.setCurrentKey('a');
      expect(l.get()).toEqual([]);
      expect(b.keyCount()).toBe(0);
      l.add(1);
      l.addAll([2, 3]);
      l.add(4);
      b.setCurrentKey('b');
      expect(l.get()).toEqual([]);
      l.addAll([9]);
      b.setCurrentKey('a');
      expect(l.get()).toEqual([1, 2, 3, 4]);
      b.setCurrentKey('b');
      expect(l.get()).toEqual([9]);
      expect(b.keyCount()).toBe(2);
    });

    it('does not alias arrays passed to update or addAll', () => {
      const b = backend();
      const l = b.listState<number>('l');
      b.setCurrentKey(1);
      const src = [1, 2];
      l.update(src);
      l.add(3);
      expect(src).toEqual([1, 2]);
      src.push(99);
      expect(l.get()).toEqual([1, 2, 3]);
      b.setCurrentKey(2);
      const more = [5];
      l.addAll(more);
      l.add(6);
      expect(more).toEqual([5]);
      expect(l.get()).toEqual([5, 6]);
    });

    it('update replaces, and empty update, empty addAll and clear leave no entry', () => {
      const b = backend();
      const l = b.listState<string>('l');
      b.setCurrentKey('k');
      l.addAll([]);
      expect(b.keyCount()).toBe(0);
      l.add('a');
      l.update(['x', 'y']);
      expect(l.get()).toEqual(['x', 'y']);
      l.update([]);
      expect(l.get()).toEqual([]);
      expect(b.keyCount()).toBe(0);
      l.add('z');
      expect(b.keyCount()).toBe(1);
      l.clear();
      expect(l.get()).toEqual([]);
      expect(b.keyCount()).toBe(0);
    });

    it('holds structured, null and undefined elements', () => {
      const b = backend();
      const l = b.listState<unknown>('l');
      b.setCurrentKey('k');
      l.addAll([{ a: 1 }, null, undefined, [1, 2], 'x']);
      l.add(3n);
      expect(l.get()).toEqual([{ a: 1 }, null, undefined, [1, 2], 'x', 3n]);
    });
  });

  describe('keyCount', () => {
    it('counts distinct keys across all states', () => {
      const b = backend();
      const v = b.valueState<number>('v');
      const m = b.mapState<string, number>('m');
      const l = b.listState<number>('l');
      b.setCurrentKey('a');
      v.update(1);
      m.put('x', 1);
      l.add(1);
      b.setCurrentKey('b');
      m.put('y', 2);
      b.setCurrentKey('c');
      l.add(3);
      expect(b.keyCount()).toBe(3);
      b.setCurrentKey('a');
      v.clear();
      m.clear();
      expect(b.keyCount()).toBe(3);
      l.clear();
      expect(b.keyCount()).toBe(2);
    });
  });

  describe('dispose', () => {
    it('drops all state and refuses new state names', () => {
      const b = backend();
      const v = b.valueState<number>('v');
      b.setCurrentKey(1);
      v.update(1);
      b.dispose();
      expect(b.keyCount()).toBe(0);
      expect(() => b.valueState('other')).toThrow(/disposed/);
    });
  });
});
