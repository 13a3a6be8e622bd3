// HeapKeyedStateBackend specifics: snapshotEntries (shared behaviour is in keyed-state-contract.test.ts).
import { describe, expect, it } from 'vitest';
import { HeapKeyedStateBackend, keyGroupFor, } from '../../src/state/index.ts';

function backend(maxParallelism = 128): HeapKeyedStateBackend {
  return new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: maxParallelism - 1 }, maxParallelism });
}

// Behaviour shared with the LMDB backend is tested once for both in keyed-state-contract.test.ts.
describe('HeapKeyedStateBackend', () => {
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
});
