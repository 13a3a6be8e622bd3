// HeapKeyedStateBackend: per-key isolation of value/map/list state, handle caching, counting and snapshots.
import { describe, expect, it } from 'vitest';
import { HeapKeyedStateBackend, keyGroupFor, keyGroupRangeFor } from '../../src/state/index.ts';

function backend(maxParallelism = 128): HeapKeyedStateBackend {
  return new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: maxParallelism - 1 }, maxParallelism });
}

describe('HeapKeyedStateBackend', () => {
  describe('construction and current key', () => {
    it('exposes its key group range', () => {
      const range = keyGroupRangeFor(1, 4, 128);
      const b = new HeapKeyedStateBackend({ keyGroupRange: range, maxParallelism: 128 });
      expect(b.keyGroupRange).toEqual({ start: 32, end: 63 });
    });

    it('rejects invalid maxParallelism and key group ranges', () => {
      expect(() => new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: 0 }, maxParallelism: 0 })).toThrow(RangeError);
      expect(() => new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: 0 }, maxParallelism: 1.5 })).toThrow(RangeError);
      expect(() => new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: 128 }, maxParallelism: 128 })).toThrow(/keyGroupRange/);
      expect(() => new HeapKeyedStateBackend({ keyGroupRange: { start: -1, end: 3 }, maxParallelism: 128 })).toThrow(/keyGroupRange/);
      expect(() => new HeapKeyedStateBackend({ keyGroupRange: { start: 5, end: 2 }, maxParallelism: 128 })).toThrow(/keyGroupRange/);
      // The empty range of an idle subtask (parallelism > maxParallelism) is allowed.
      expect(() => new HeapKeyedStateBackend({ keyGroupRange: { start: 5, end: 4 }, maxParallelism: 128 })).not.toThrow();
    });

    it('returns the current key and fails clearly before one is set', () => {
      const b = backend();
      expect(() => b.getCurrentKey()).toThrow(/no current key/);
      expect(() => b.valueState<number>('v').value()).toThrow(/no current key/);
      expect(() => b.valueState<number>('v').update(1)).toThrow(/no current key/);
      b.setCurrentKey('k1');
      expect(b.getCurrentKey()).toBe('k1');
      b.setCurrentKey(7n);
      expect(b.getCurrentKey()).toBe(7n);
      b.setCurrentKey(false);
      expect(b.getCurrentKey()).toBe(false);
      b.setCurrentKey(0);
      expect(b.getCurrentKey()).toBe(0);
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
      // The original registration is untouched by the failed attempt.
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
      expect(b.snapshotEntries()).toEqual([]);
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
      expect(b.snapshotEntries()).toEqual([]);
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

  describe('snapshotEntries', () => {
    it('lists every entry with its state, kind, key and key group', () => {
      const b = backend(16);
      const v = b.valueState<number>('v');
      const m = b.mapState<string, number>('m');
      const l = b.listState<string>('l');
      b.setCurrentKey('a');
      v.update(1);
      m.put('x', 10);
      b.setCurrentKey(42);
      l.add('p');
      l.add('q');
      b.setCurrentKey(5n);
      v.update(2);
      const snap = b.snapshotEntries();
      expect(snap).toEqual([
        { state: 'v', kind: 'value', key: 'a', keyGroup: keyGroupFor('a', 16), value: 1 },
        { state: 'v', kind: 'value', key: 5n, keyGroup: keyGroupFor(5n, 16), value: 2 },
        { state: 'm', kind: 'map', key: 'a', keyGroup: keyGroupFor('a', 16), value: new Map([['x', 10]]) },
        { state: 'l', kind: 'list', key: 42, keyGroup: keyGroupFor(42, 16), value: ['p', 'q'] },
      ]);
      for (const e of snap) {
        expect(e.keyGroup).toBeGreaterThanOrEqual(0);
        expect(e.keyGroup).toBeLessThan(16);
      }
    });

    it('is not changed by later writes to map and list state', () => {
      const b = backend();
      const m = b.mapState<string, number>('m');
      const l = b.listState<number>('l');
      b.setCurrentKey('k');
      m.put('x', 1);
      l.add(1);
      const snap = b.snapshotEntries();
      m.put('y', 2);
      l.add(2);
      expect(snap.find((e) => e.kind === 'map')?.value).toEqual(new Map([['x', 1]]));
      expect(snap.find((e) => e.kind === 'list')?.value).toEqual([1]);
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
      expect(b.snapshotEntries()).toEqual([]);
      expect(() => b.valueState('other')).toThrow(/disposed/);
    });
  });
});
