// TTL state on both backends, driven by a manual clock: expiry, update types, visibility, cleanup
// on access, and full snapshots that leave expired values out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeapKeyedStateBackend } from '../../../src/state/heap/heap-keyed-state-backend.ts';
import { LmdbKeyedStateBackend, openStateEnvironment } from '../../../src/state/lmdb/lmdb-keyed-state-backend.ts';
import { resolveTtl, type StateOptions } from '../../../src/state/ttl/ttl-config.ts';
import { StateTtlMismatchError } from '../../../src/state/ttl/errors.ts';
import { isExpired, type TtlStored, TtlListState, TtlMapState, ttlSnapshotFilter, TtlValueState } from '../../../src/state/ttl/ttl-state.ts';
import type { KeyedStateBackend } from '../../../src/state/types.ts';
import { JobConfigError, UnknownOptionError } from '../../../src/errors/index.ts';

let dir: string;
let env: RootDatabase;
let counter = 0;
const live: KeyedStateBackend[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-ttl-'));
  env = openStateEnvironment(dir);
});
afterEach(() => {
  for (const b of live.splice(0)) b.dispose();
});
afterAll(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

const range = { start: 0, end: 127 };
const heap = () => new HeapKeyedStateBackend({ keyGroupRange: range, maxParallelism: 128 });
const lmdb = () => new LmdbKeyedStateBackend({ env, dbName: `ttl-${counter++}`, keyGroupRange: range, maxParallelism: 128 });

/** A backend and TTL'd handles over it on a manual clock, as keyed-state-access.ts builds them. */
function setup(create: () => KeyedStateBackend) {
  const backend = create();
  live.push(backend);
  const clock = { now: 0 };
  const now = () => clock.now;
  const ttlOf = (name: string, options: StateOptions) => {
    const ttl = resolveTtl(name, options)!;
    backend.setSnapshotFilter?.(name, ttlSnapshotFilter(ttl, now));
    return ttl;
  };
  return {
    backend,
    clock,
    value: <T>(name: string, options: StateOptions) => new TtlValueState<T>(name, backend.valueState<TtlStored<T>>(name), ttlOf(name, options), now),
    map: <K, V>(name: string, options: StateOptions) => new TtlMapState<K, V>(name, backend.mapState<K, TtlStored<V>>(name), ttlOf(name, options), now),
    list: <T>(name: string, options: StateOptions) => new TtlListState<T>(name, backend.listState<TtlStored<T>>(name), ttlOf(name, options), now),
  };
}

describe('TTL options', () => {
  it('resolve with Flink defaults and name the state and option at fault', () => {
    expect(resolveTtl('s', undefined)).toBeUndefined();
    expect(resolveTtl('s', {})).toBeUndefined();
    expect(resolveTtl('s', { ttl: { ms: 5 } })).toEqual({ ms: 5, updateOnRead: false, returnExpired: false });
    expect(resolveTtl('s', { ttl: { ms: 5, update: 'on-read-and-write', visibility: 'return-expired-if-not-cleaned' } })).toEqual({ ms: 5, updateOnRead: true, returnExpired: true });
    expect(() => resolveTtl('clicks', { ttl: { ms: 0 } })).toThrow(/invalid state 'clicks' ttl.ms: must be a number of milliseconds > 0, got 0/);
    expect(() => resolveTtl('clicks', { ttl: { ms: 1, update: 'always' as never } })).toThrow(JobConfigError);
    expect(() => resolveTtl('clicks', { ttl: { ms: 1, visibility: 'sometimes' as never } })).toThrow(/ttl.visibility/);
    const typo = (() => {
      try {
        resolveTtl('clicks', { ttl: { ms: 1, updte: 'on-read-and-write' } as never });
      } catch (e) {
        return e;
      }
    })();
    expect(typo).toBeInstanceOf(UnknownOptionError);
    expect((typo as UnknownOptionError).suggestion).toBe('update');
  });

  it('expire at last access + ttl, not before', () => {
    expect(isExpired(1_000, 500, 1_499)).toBe(false);
    expect(isExpired(1_000, 500, 1_500)).toBe(true);
  });
});

describe.each([
  ['heap', heap],
  ['lmdb', lmdb],
] as const)('TTL state on the %s backend', (_name, create) => {
  it('value state: visible until ttl after the last write, then gone and cleaned up on that read', () => {
    const s = setup(create);
    s.backend.setCurrentKey('k');
    const v = s.value<number>('v', { ttl: { ms: 1_000 } });
    v.update(1);
    s.clock.now = 999;
    expect(v.value()).toBe(1);
    // A read does not refresh with the default update type.
    s.clock.now = 1_000;
    expect(v.value()).toBeUndefined();
    // Cleaned up on access: the raw state is empty too.
    expect(s.backend.valueState('v').value()).toBeUndefined();
    // A write starts a new lifetime.
    v.update(2);
    s.clock.now = 1_999;
    expect(v.value()).toBe(2);
  });

  it("value state: 'on-read-and-write' refreshes on every read", () => {
    const s = setup(create);
    s.backend.setCurrentKey('k');
    const v = s.value<string>('v', { ttl: { ms: 100, update: 'on-read-and-write' } });
    v.update('a');
    for (let t = 90; t <= 900; t += 90) {
      s.clock.now = t;
      expect(v.value()).toBe('a');
    }
    s.clock.now = 900 + 100;
    expect(v.value()).toBeUndefined();
  });

  it("value state: 'return-expired-if-not-cleaned' returns an expired value once, then it is gone", () => {
    const s = setup(create);
    s.backend.setCurrentKey('k');
    const v = s.value<number>('v', { ttl: { ms: 10, visibility: 'return-expired-if-not-cleaned' } });
    v.update(7);
    s.clock.now = 50;
    expect(v.value()).toBe(7);
    expect(v.value()).toBeUndefined();
  });

  it('value state: each key has its own lifetime; clear and update(undefined) remove', () => {
    const s = setup(create);
    const v = s.value<number>('v', { ttl: { ms: 100 } });
    s.backend.setCurrentKey('a');
    v.update(1);
    s.clock.now = 60;
    s.backend.setCurrentKey('b');
    v.update(2);
    s.clock.now = 120;
    expect(v.value()).toBe(2);
    s.backend.setCurrentKey('a');
    expect(v.value()).toBeUndefined();
    s.backend.setCurrentKey('b');
    v.update(undefined as unknown as number);
    expect(v.value()).toBeUndefined();
  });

  it('map state: a TTL per entry; iteration hides and removes expired entries and never undoes writes made meanwhile', () => {
    const s = setup(create);
    s.backend.setCurrentKey('k');
    const m = s.map<string, number>('m', { ttl: { ms: 100 } });
    m.put('old', 1);
    s.clock.now = 50;
    m.put('new', 2);
    s.clock.now = 120;
    expect(m.contains('old')).toBe(false);
    expect(m.get('new')).toBe(2);
    m.put('old', 3);
    s.clock.now = 160;
    expect([...m.entries()].sort()).toEqual([['old', 3]]);
    expect([...m.keys()]).toEqual(['old']);
    // Writing while iterating: the expired 'x' is cleaned before the first entry is seen.
    m.put('x', 9);
    s.clock.now = 300;
    m.put('y', 1);
    for (const [k] of m.entries()) m.put(`${k}-seen`, 0);
    expect([...m.keys()].sort()).toEqual(['y', 'y-seen']);
    expect(m.isEmpty()).toBe(false);
    s.clock.now = 1_000;
    expect(m.isEmpty()).toBe(true);
    expect(s.backend.mapState('m').isEmpty()).toBe(true);
  });

  it("map state: 'on-read-and-write' refreshes the entries read", () => {
    const s = setup(create);
    s.backend.setCurrentKey('k');
    const m = s.map<string, number>('m', { ttl: { ms: 100, update: 'on-read-and-write' } });
    m.put('read', 1);
    m.put('unread', 2);
    s.clock.now = 90;
    expect(m.get('read')).toBe(1);
    s.clock.now = 150;
    expect([...m.entries()]).toEqual([['read', 1]]);
  });

  it('list state: a TTL per element; expired elements drop out when read', () => {
    const s = setup(create);
    s.backend.setCurrentKey('k');
    const l = s.list<number>('l', { ttl: { ms: 100 } });
    l.add(1);
    s.clock.now = 50;
    l.addAll([2, 3]);
    s.clock.now = 120;
    expect(l.get()).toEqual([2, 3]);
    expect(s.backend.listState('l').get()).toHaveLength(2);
    l.update([4]);
    s.clock.now = 200;
    expect(l.get()).toEqual([4]);
    s.clock.now = 220;
    expect(l.get()).toEqual([]);
    expect(s.backend.listState('l').get()).toEqual([]);
  });

  it('a state written without a TTL and read with one is a typed error naming it', () => {
    const s = setup(create);
    s.backend.setCurrentKey('k');
    s.backend.valueState<number>('plain').update(5);
    const v = s.value<number>('plain', { ttl: { ms: 10 } });
    expect(() => v.value()).toThrow(StateTtlMismatchError);
    expect(() => v.value()).toThrow(/state 'plain'/);
  });
});

describe('full snapshots leave expired values out', () => {
  function fill(s: ReturnType<typeof setup>) {
    const v = s.value<number>('v', { ttl: { ms: 100 } });
    const m = s.map<string, number>('m', { ttl: { ms: 100 } });
    const l = s.list<number>('l', { ttl: { ms: 100 } });
    const plain = s.backend.valueState<number>('plain');
    for (const key of ['a', 'b']) {
      s.backend.setCurrentKey(key);
      v.update(1);
      m.put('early', 1);
      l.add(1);
      plain.update(1);
    }
    s.clock.now = 60;
    s.backend.setCurrentKey('b');
    v.update(2);
    m.put('late', 2);
    l.add(2);
    // a: all expired at 130; b: the writes at 60 live on.
    s.clock.now = 130;
  }

  it('heap: the snapshot has only live values; local state still has the expired ones', () => {
    const s = setup(heap);
    fill(s);
    const heapBackend = s.backend as HeapKeyedStateBackend;
    const snap = heapBackend.snapshotEntries({ filtered: true });
    const of = (state: string, key: string) => snap.find((e) => e.state === state && e.key === key)?.value;
    expect(of('v', 'a')).toBeUndefined();
    expect(of('v', 'b')).toEqual([2, 60]);
    expect(of('m', 'a')).toBeUndefined();
    expect(of('m', 'b')).toEqual(new Map([['late', [2, 60]]]));
    expect(of('l', 'a')).toBeUndefined();
    expect(of('l', 'b')).toEqual([[2, 60]]);
    expect(of('plain', 'a')).toBe(1);
    expect(heapBackend.snapshotEntries()).toHaveLength(8);
  });

  it('lmdb: the base chunk restores without the expired values (deltas keep everything)', () => {
    const s = setup(lmdb);
    fill(s);
    const original = s.backend as LmdbKeyedStateBackend;
    const delta = original.snapshot();
    const base = original.fullSnapshot();
    const fromBase = setup(lmdb);
    fromBase.clock.now = 130;
    (fromBase.backend as LmdbKeyedStateBackend).restore([base]);
    const fromDelta = setup(lmdb);
    fromDelta.clock.now = 130;
    (fromDelta.backend as LmdbKeyedStateBackend).restore(delta.chunks.map((c) => c.chunk));
    const read = (t: ReturnType<typeof setup>, key: string) => {
      t.backend.setCurrentKey(key);
      return {
        v: t.backend.valueState('v').value(),
        m: [...t.backend.mapState('m').entries()],
        l: t.backend.listState('l').get(),
        plain: t.backend.valueState('plain').value(),
      };
    };
    expect(read(fromBase, 'a')).toEqual({ v: undefined, m: [], l: [], plain: 1 });
    expect(read(fromBase, 'b')).toEqual({ v: [2, 60], m: [['late', [2, 60]]], l: [[2, 60]], plain: 1 });
    expect(read(fromDelta, 'a')).toEqual({ v: [1, 0], m: [['early', [1, 0]]], l: [[1, 0]], plain: 1 });
  });
});
