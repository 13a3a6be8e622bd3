// LmdbKeyedStateBackend: incremental snapshots, restore of chains, rescaling, materialization and LMDB-specific limits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyGroupFor } from '../../../src/state/key-groups.ts';
import { decodeStateKey, decodeStateTableRow, isStateTableKey } from '../../../src/state/lmdb/key-codec.ts';
import {
  LmdbKeyedStateBackend,
  type LmdbKeyedStateBackendOptions,
  openStateEnvironment,
} from '../../../src/state/lmdb/lmdb-keyed-state-backend.ts';
import { decodeChunk, type DeltaChunk, encodeChunk, readChunkEntries } from '../../../src/state/snapshot/delta-chunk.ts';
import type { KeyValue } from '../../../src/state/types.ts';
import { Chains, expectMatches, KEY_POOL, Model, randomOps, rng } from './state-model.ts';

const packr = new Packr({ moreTypes: true, useBigIntExtension: true });

let dir: string;
let env: RootDatabase;
let dbCounter = 0;
const live: LmdbKeyedStateBackend[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-lmdb-'));
  env = openStateEnvironment(join(dir, 'env'));
});

afterEach(() => {
  for (const b of live.splice(0)) b.dispose();
});

afterAll(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

function create(options: Partial<LmdbKeyedStateBackendOptions> = {}): LmdbKeyedStateBackend {
  const b = new LmdbKeyedStateBackend({
    env,
    dbName: `db-${dbCounter++}`,
    keyGroupRange: { start: 0, end: 127 },
    maxParallelism: 128,
    ...options,
  });
  live.push(b);
  return b;
}

/** Decoded data entries of a chunk: state name, key parts and the raw value (null = tombstone). */
interface Entry {
  state: string;
  keyGroup: number;
  userKey: KeyValue;
  mapKey: KeyValue | undefined;
  value: Uint8Array | null;
}

function dataEntries(chunk: DeltaChunk): Entry[] {
  const names = new Map<number, string>();
  for (const [key, value] of chunk.entries) {
    if (isStateTableKey(key) && value !== null) {
      const row = decodeStateTableRow(key, value);
      names.set(row.id, row.name);
    }
  }
  return chunk.entries
    .filter(([key]) => !isStateTableKey(key))
    .map(([key, value]) => {
      const k = decodeStateKey(key);
      const state = names.get(k.stateId);
      if (state === undefined) throw new Error(`no table row for state id ${k.stateId}`);
      return { state, keyGroup: k.keyGroup, userKey: k.userKey, mapKey: k.mapKey, value };
    });
}

function describeEntry(e: Entry): string {
  const mk = e.mapKey === undefined ? '' : `/${typeof e.mapKey}:${String(e.mapKey)}`;
  return `${e.state}:${typeof e.userKey}:${String(e.userKey)}${mk}=${e.value === null ? 'DEL' : 'PUT'}`;
}

describe('LmdbKeyedStateBackend snapshots', () => {
  it('yields no chunk when nothing changed', () => {
    const b = create();
    expect(b.snapshot().chunks).toEqual([]);
    b.valueState<number>('v'); // registering a state alone is no change
    expect(b.snapshot().chunks).toEqual([]);
    b.setCurrentKey('k');
    b.valueState<number>('v').update(1);
    expect(b.snapshot().chunks).toHaveLength(1);
    expect(b.snapshot().chunks).toEqual([]);
    // Reads are no change either.
    b.valueState<number>('v').value();
    b.mapState<string, number>('m').get('x');
    expect(b.snapshot().chunks).toEqual([]);
  });

  it('a key created and deleted between snapshots leaves nothing; deleting an absent key neither', () => {
    const b = create();
    const v = b.valueState<number>('v');
    const m = b.mapState<string, number>('m');
    const l = b.listState<number>('l');
    b.setCurrentKey('k');
    v.update(1);
    v.clear();
    m.put('a', 1);
    m.remove('a');
    m.remove('never');
    l.add(1);
    l.clear();
    b.setCurrentKey('other');
    v.clear();
    m.clear();
    expect(b.snapshot().chunks).toEqual([]);
  });

  it('contains exactly the written and deleted entries, grouped per key-group range', () => {
    const b = create({ keyGroupsPerChunk: 16 });
    expect(b.chunkRanges).toHaveLength(8);
    const v = b.valueState<number>('v');
    const m = b.mapState<string, number>('m');
    for (let k = 0; k < 200; k++) {
      b.setCurrentKey(k);
      v.update(k);
      m.put('a', k);
      m.put('b', k);
    }
    const first = b.snapshot().chunks;
    expect(first.map((c) => c.range)).toEqual(b.chunkRanges);
    expect(first.flatMap((c) => dataEntries(c.chunk))).toHaveLength(600);

    // Round two: touch only keys whose key group is below 32 (two chunk ranges).
    const touched = Array.from({ length: 200 }, (_, k) => k).filter((k) => keyGroupFor(k, 128) < 32);
    const expected = new Set<string>();
    for (const k of touched.slice(0, 10)) {
      b.setCurrentKey(k);
      v.update(k + 1000);
      expected.add(`v:number:${k}=PUT`);
    }
    for (const k of touched.slice(10, 15)) {
      b.setCurrentKey(k);
      v.clear();
      m.remove('a');
      expected.add(`v:number:${k}=DEL`);
      expected.add(`m:number:${k}/string:a=DEL`);
    }
    for (const k of touched.slice(15, 18)) {
      b.setCurrentKey(k);
      m.clear(); // entries that are only in LMDB by now: each becomes a tombstone
      expected.add(`m:number:${k}/string:a=DEL`);
      expected.add(`m:number:${k}/string:b=DEL`);
    }
    b.setCurrentKey(touched[18]);
    m.put('c', 1);
    m.put('c', 2); // written twice, one entry
    expected.add(`m:number:${touched[18]}/string:c=PUT`);

    const second = b.snapshot().chunks;
    expect(second.map((c) => c.range)).toEqual([
      { start: 0, end: 15 },
      { start: 16, end: 31 },
    ]);
    const seen = new Set<string>();
    for (const { range, chunk } of second) {
      const entries = dataEntries(chunk);
      for (const e of entries) {
        expect(e.keyGroup).toBeGreaterThanOrEqual(range.start);
        expect(e.keyGroup).toBeLessThanOrEqual(range.end);
        seen.add(describeEntry(e));
      }
      // Sorted by key bytes, state table rows last.
      const keys = chunk.entries.map(([k]) => Buffer.from(k));
      expect([...keys].sort(Buffer.compare)).toEqual(keys);
    }
    expect(seen).toEqual(expected);
    const put = second.flatMap((c) => dataEntries(c.chunk)).find((e) => e.mapKey === 'c');
    expect(packr.unpack(put?.value as Uint8Array)).toBe(2);
    expect(b.snapshot().chunks).toEqual([]);
  });

  it('includes only the state table rows of the states a chunk touches', () => {
    const b = create();
    b.valueState<number>('unused');
    b.setCurrentKey('k');
    b.listState<number>('items').add(1);
    const [{ chunk }] = b.snapshot().chunks;
    const rows = chunk.entries.filter(([k]) => isStateTableKey(k)).map(([k, v]) => decodeStateTableRow(k, v as Uint8Array));
    expect(rows).toEqual([{ name: 'items', id: 1, kind: 'list' }]);
  });

  it('fullSnapshot equals the state, with or without unflushed writes', () => {
    const b = create();
    const model = new Model();
    const random = rng(7);
    randomOps(b, model, random, 800);
    b.snapshot();
    randomOps(b, model, random, 300);
    const dirty = b.fullSnapshot();
    expect(dirty.kind).toBe('base');
    expect(dirty.entries.every(([, value]) => value !== null)).toBe(true);
    b.snapshot();
    const clean = b.fullSnapshot();
    expect(clean.entries.map(([k, v]) => [Buffer.from(k), Buffer.from(v as Uint8Array)])).toEqual(
      dirty.entries.map(([k, v]) => [Buffer.from(k), Buffer.from(v as Uint8Array)]),
    );
    const restored = create();
    restored.restore([decodeChunk(encodeChunk(clean), 'base')]);
    expectMatches(restored, model);
    // A sub-range holds exactly that range's keys.
    const part = b.fullSnapshot({ start: 10, end: 20 });
    expect(part.range).toEqual({ start: 10, end: 20 });
    for (const e of dataEntries(part)) expect(e.keyGroup >= 10 && e.keyGroup <= 20).toBe(true);
  });
});

describe('LmdbKeyedStateBackend restore', () => {
  it.each([
    ['one chunk range, large overlay', { keyGroupsPerChunk: undefined, maxOverlayEntries: undefined }],
    ['8 chunk ranges', { keyGroupsPerChunk: 16, maxOverlayEntries: undefined }],
    ['8 chunk ranges, overlay spilling every 7 entries', { keyGroupsPerChunk: 16, maxOverlayEntries: 7 }],
  ])('base + deltas reproduce the state over random operations (%s)', (_label, options) => {
    const random = rng(42);
    const b = create(options);
    const model = new Model();
    const chains = new Chains();
    randomOps(b, model, random, 1500);
    chains.addSnapshot(b);
    for (const range of b.chunkRanges) chains.materialize(b, range);
    for (let round = 0; round < 8; round++) {
      randomOps(b, model, random, 150 + round * 40);
      chains.addSnapshot(b);
      // Materialize one range now and then: a new base restarts its chain.
      if (round === 4) chains.materialize(b, b.chunkRanges[0]);
      expectMatches(b, model);
      const restored = create({ keyGroupsPerChunk: options.keyGroupsPerChunk });
      restored.restore(chains.all());
      expectMatches(restored, model);
      // The restored state is the new baseline: no change, no chunk.
      expect(restored.snapshot().chunks).toEqual([]);
    }
  });

  it('follows a running backend: deltas applied on top as they come, a new base reloads only its range', () => {
    const random = rng(7);
    const source = create({ keyGroupsPerChunk: 16 });
    const model = new Model();
    randomOps(source, model, random, 800);
    source.snapshot();
    const follower = create({ keyGroupsPerChunk: 16 });
    follower.restore(source.chunkRanges.map((r) => decodeChunk(encodeChunk(source.fullSnapshot(r)), 'base')));
    for (let round = 0; round < 5; round++) {
      randomOps(source, model, random, 200);
      follower.apply(source.snapshot().chunks.map((c) => decodeChunk(encodeChunk(c.chunk), 'delta')));
      expectMatches(follower, model);
    }
    // A key the source never had, in range r of the follower: a new base of r must drop it, and only r.
    const r = source.chunkRanges[1];
    let stray = 0;
    while (keyGroupFor(`stray-${stray}`, 128) < r.start || keyGroupFor(`stray-${stray}`, 128) > r.end) stray++;
    let outside = 0;
    while (keyGroupFor(`outside-${outside}`, 128) >= r.start && keyGroupFor(`outside-${outside}`, 128) <= r.end) outside++;
    for (const key of [`stray-${stray}`, `outside-${outside}`]) {
      follower.setCurrentKey(key);
      follower.valueState<number>('value').update(9);
    }
    follower.snapshot();
    follower.apply([decodeChunk(encodeChunk(source.fullSnapshot(r)), 'base')], r);
    follower.setCurrentKey(`stray-${stray}`);
    expect(follower.valueState<number>('value').value()).toBeUndefined();
    follower.setCurrentKey(`outside-${outside}`);
    expect(follower.valueState<number>('value').value()).toBe(9);
  });

  it('restores straight from chunk bytes like from decoded chunks, ids remapped by name, deltas on top', () => {
    const random = rng(11);
    const source = create({ keyGroupsPerChunk: 16 });
    const model = new Model();
    randomOps(source, model, random, 900);
    const chains = new Chains();
    chains.addSnapshot(source);
    for (const range of source.chunkRanges) chains.materialize(source, range);
    randomOps(source, model, random, 300);
    chains.addSnapshot(source);
    const encoded = chains.all().map((c, i) => readChunkEntries(encodeChunk(c), `chunk-${i}`));
    // A backend that registered another state first: every id of the chunks must be remapped.
    const target = create({ keyGroupsPerChunk: 16 });
    target.setCurrentKey('x');
    target.listState<number>('registered-first').add(1);
    target.snapshot();
    target.restoreEncoded(encoded);
    expectMatches(target, model);
    const plain = create({ keyGroupsPerChunk: 16 });
    plain.restore(chains.all());
    expectMatches(plain, model);
    // Applied on top (null: nothing cleared): a further delta moves it along.
    randomOps(source, model, random, 200);
    const next = source.snapshot().chunks.map((c, i) => readChunkEntries(encodeChunk(c.chunk), `next-${i}`));
    target.restoreEncoded(next, null);
    expectMatches(target, model);
  });

  it('a delta applied to the overlay reads like one stored in LMDB, and the next snapshot stores it', () => {
    const random = rng(19);
    const source = create({ keyGroupsPerChunk: 16 });
    const model = new Model();
    randomOps(source, model, random, 900);
    source.snapshot();
    const follower = create({ keyGroupsPerChunk: 16, maxOverlayEntries: 50 });
    follower.restore(source.chunkRanges.map((r) => decodeChunk(encodeChunk(source.fullSnapshot(r)), 'base')));
    for (let round = 0; round < 3; round++) {
      randomOps(source, model, random, 250);
      const delta = source.snapshot().chunks.map((c, i) => readChunkEntries(encodeChunk(c.chunk), `delta-${i}`));
      // Values, lists, map entries and tombstones; a small overlay limit makes it spill part-way too.
      expect(follower.applyToOverlay(delta)).toBeGreaterThan(0);
      expectMatches(follower, model);
    }
    follower.snapshot();
    const copy = create({ keyGroupsPerChunk: 16 });
    copy.restore(follower.chunkRanges.map((r) => decodeChunk(encodeChunk(follower.fullSnapshot(r)), 'base')));
    expectMatches(copy, model);
  });

  it('keeps writing correctly after a restore, with deltas relative to it', () => {
    const random = rng(3);
    const a = create();
    const model = new Model();
    randomOps(a, model, random, 500);
    a.snapshot();
    const base = a.fullSnapshot();
    const b = create();
    b.restore([base]);
    const chains = new Chains();
    chains.byRange.set(0, [base]);
    randomOps(b, model, random, 300);
    chains.addSnapshot(b);
    expectMatches(b, model);
    const c = create();
    c.restore(chains.all());
    expectMatches(c, model);
  });

  it('replaces what the backend held before', () => {
    const b = create();
    b.setCurrentKey('stale');
    b.valueState<number>('value').update(1);
    b.snapshot();
    b.setCurrentKey('pending');
    b.valueState<number>('value').update(2);
    const source = create();
    const model = new Model();
    randomOps(source, model, rng(5), 200);
    source.snapshot();
    b.restore([source.fullSnapshot()]);
    expectMatches(b, model);
    b.setCurrentKey('stale');
    expect(b.valueState<number>('value').value()).toBeUndefined();
    b.setCurrentKey('pending');
    expect(b.valueState<number>('value').value()).toBeUndefined();
  });

  it('rescale: a backend with a smaller key-group range keeps only its keys', () => {
    const a = create();
    const model = new Model();
    const random = rng(11);
    const chains = new Chains();
    randomOps(a, model, random, 1000);
    chains.addSnapshot(a);
    randomOps(a, model, random, 400);
    chains.addSnapshot(a);
    const lower = create({ keyGroupRange: { start: 0, end: 63 } });
    const upper = create({ keyGroupRange: { start: 64, end: 127 } });
    lower.restore(chains.all());
    upper.restore(chains.all());
    expectMatches(lower, model);
    expectMatches(upper, model);
    expect(lower.keyCount() + upper.keyCount()).toBe(a.keyCount());
    expect(lower.keyCount()).toBeGreaterThan(0);
    expect(upper.keyCount()).toBeGreaterThan(0);
    for (const e of dataEntries(lower.fullSnapshot())) expect(e.keyGroup).toBeLessThanOrEqual(63);
    // Keys of the other half are not this backend's to touch.
    const foreign = KEY_POOL.find((k) => keyGroupFor(k, 128) >= 64) as KeyValue;
    lower.setCurrentKey(foreign);
    expect(() => lower.valueState<unknown>('value').value()).toThrow(/outside this backend's range/);
  });

  it('rescale in: chains of subtasks that numbered their states differently restore into one backend', () => {
    const left = create({ keyGroupRange: { start: 0, end: 63 } });
    const right = create({ keyGroupRange: { start: 64, end: 127 } });
    // Different registration order, so 'x' and 'y' get different ids in the two subtasks.
    left.valueState<string>('x');
    left.mapState<string, string>('y');
    right.mapState<string, string>('y');
    right.valueState<string>('x');
    const expected = new Map<KeyValue, [string, string]>();
    for (let k = 0; k < 300; k++) {
      const b = keyGroupFor(k, 128) < 64 ? left : right;
      b.setCurrentKey(k);
      b.valueState<string>('x').update(`x${k}`);
      b.mapState<string, string>('y').put('f', `y${k}`);
      expected.set(k, [`x${k}`, `y${k}`]);
    }
    const chunks = [...left.snapshot().chunks, ...right.snapshot().chunks].map((c) => c.chunk);
    const merged = create();
    merged.listState<number>('first'); // ids here differ from both sources
    merged.restore(chunks);
    for (const [k, [x, y]] of expected) {
      merged.setCurrentKey(k);
      expect(merged.valueState<string>('x').value()).toBe(x);
      expect(merged.mapState<string, string>('y').get('f')).toBe(y);
    }
    expect(merged.keyCount()).toBe(300);
  });

  it('refuses a chunk whose state kind conflicts, leaving the state unchanged', () => {
    const source = create();
    source.setCurrentKey('k');
    source.mapState<string, number>('s').put('a', 1);
    const chunk = source.snapshot().chunks[0].chunk;
    const b = create();
    b.setCurrentKey('k');
    b.valueState<number>('s').update(5);
    b.snapshot();
    expect(() => b.restore([chunk])).toThrow(/state "s".*map.*value/);
    expect(b.valueState<number>('s').value()).toBe(5);
  });

  it('refuses a chunk whose entries reference an unknown state id, atomically', () => {
    const source = create();
    source.setCurrentKey('k');
    source.valueState<number>('v').update(1);
    const chunk = source.snapshot().chunks[0].chunk;
    const withoutTable: DeltaChunk = { ...chunk, entries: chunk.entries.filter(([k]) => !isStateTableKey(k)) };
    const b = create();
    b.setCurrentKey('mine');
    b.valueState<number>('v').update(9);
    b.snapshot();
    expect(() => b.restore([withoutTable])).toThrow(/state id/);
    expect(b.valueState<number>('v').value()).toBe(9);
  });
});

describe('LmdbKeyedStateBackend MapState over LMDB and overlay', () => {
  it('merges flushed and unflushed entries in key order', () => {
    const b = create();
    const m = b.mapState<KeyValue, string>('m');
    b.setCurrentKey('u');
    for (const k of ['d', 'b', 10, 2, true]) m.put(k, `old-${String(k)}`);
    b.snapshot(); // now in LMDB
    m.put('b', 'new-b'); // overrides a stored entry
    m.remove(2); // hides a stored entry
    m.put('a', 'new-a'); // only in the overlay
    m.put(-1, 'new--1');
    expect([...m.entries()]).toEqual([
      [true, 'old-true'],
      [-1, 'new--1'],
      [10, 'old-10'],
      ['a', 'new-a'],
      ['b', 'new-b'],
      ['d', 'old-d'],
    ]);
    expect([...m.keys()]).toEqual([true, -1, 10, 'a', 'b', 'd']);
    expect(m.contains(2)).toBe(false);
    expect(m.contains(10)).toBe(true);
    b.snapshot();
    expect([...m.values()]).toEqual(['old-true', 'new--1', 'old-10', 'new-a', 'new-b', 'old-d']);
    m.clear();
    expect(m.isEmpty()).toBe(true);
    expect(b.keyCount()).toBe(0);
    const [{ chunk }] = b.snapshot().chunks;
    expect(dataEntries(chunk).map(describeEntry)).toHaveLength(6);
    expect(dataEntries(chunk).every((e) => e.value === null)).toBe(true);
  });

  it('iteration stays correct when a spill flushes the overlay mid-way', () => {
    const b = create({ maxOverlayEntries: 4 });
    const m = b.mapState<number, number>('m');
    b.setCurrentKey('u');
    for (let i = 0; i < 20; i++) m.put(i, i);
    b.snapshot();
    m.put(100, 100);
    m.put(5, 55);
    const seen: Array<[number, number]> = [];
    for (const [k, v] of m.entries()) {
      seen.push([k, v]);
      if (k === 3) {
        m.remove(7); // these writes spill the overlay into LMDB during the iteration
        m.put(8, 88);
        m.put(200, 200);
        m.remove(9);
      }
    }
    const expected = Array.from({ length: 20 }, (_, i): [number, number] => [i, i])
      .filter(([k]) => k !== 7 && k !== 9)
      .map(([k, v]): [number, number] => [k, k === 5 ? 55 : k === 8 ? 88 : v]);
    expect(seen.filter(([k]) => k < 100)).toEqual(expected);
    expect(new Map(m.entries())).toEqual(new Map([...expected, [100, 100], [200, 200]]));
  });
});

describe('LmdbKeyedStateBackend lifecycle and limits', () => {
  it('refuses a second live backend on the same named database', () => {
    create({ dbName: 'shared-name' });
    expect(() => create({ dbName: 'shared-name' })).toThrow(/already used/);
  });

  it('starts empty by default, and with retain reopens its state and state ids', () => {
    const first = new LmdbKeyedStateBackend({
      env,
      dbName: 'retained',
      keyGroupRange: { start: 0, end: 127 },
      maxParallelism: 128,
      retain: true,
    });
    first.listState<number>('l');
    first.setCurrentKey('k');
    first.valueState<string>('v').update('kept');
    first.snapshot();
    first.dispose();
    const second = create({ dbName: 'retained', retain: true });
    second.setCurrentKey('k');
    expect(second.valueState<string>('v').value()).toBe('kept');
    expect(() => second.mapState('l')).toThrow(/state "l".*list.*map/);
    second.dispose();
    const third = create({ dbName: 'retained' });
    third.setCurrentKey('k');
    expect(third.valueState<string>('v').value()).toBeUndefined();
    expect(third.keyCount()).toBe(0);
  });

  it('opens and closes its own environment when given a directory', () => {
    const path = join(dir, 'owned');
    const b = new LmdbKeyedStateBackend({ env: path, dbName: 'x', keyGroupRange: { start: 0, end: 7 }, maxParallelism: 8 });
    b.setCurrentKey(1);
    b.valueState<number>('v').update(1);
    expect(b.snapshot().chunks).toHaveLength(1);
    b.dispose();
    expect(() => b.snapshot()).toThrow(/disposed/);
    expect(() => b.valueState<number>('v').value()).toThrow(/disposed/);
  });

  it('rejects unsupported map keys and over-long keys with clear errors', () => {
    const b = create();
    b.setCurrentKey('k');
    const m = b.mapState<unknown, number>('m');
    expect(() => m.put({}, 1)).toThrow(TypeError);
    expect(() => m.get(null)).toThrow(/map keys must be/);
    expect(() => m.put('x'.repeat(3000), 1)).toThrow(/exceeds LMDB's limit/);
    b.setCurrentKey('y'.repeat(3000));
    expect(() => b.valueState<number>('v').update(1)).toThrow(/exceeds LMDB's limit/);
    expect(() => new LmdbKeyedStateBackend({ env, dbName: 'bad', keyGroupRange: { start: 0, end: 7 }, maxParallelism: 8, keyGroupsPerChunk: 0 })).toThrow(
      /keyGroupsPerChunk/,
    );
  });

  it('returns the written object until a snapshot, which captures it as of the snapshot call', () => {
    const b = create();
    const v = b.valueState<{ n: number; bytes: Uint8Array }>('v');
    b.setCurrentKey('k');
    const written = { n: 1, bytes: Uint8Array.of(1, 2) };
    v.update(written);
    expect(v.value()).toBe(written);
    written.n = 2;
    const { chunks } = b.snapshot();
    written.n = 3; // after the snapshot: neither the snapshot nor the stored state sees it
    expect(chunks).toHaveLength(1);
    const read = v.value() as { n: number; bytes: Uint8Array };
    expect(read).not.toBe(written);
    expect(read).toEqual({ n: 2, bytes: Uint8Array.of(1, 2) });
    // Reads of a key not written since the snapshot decode a fresh copy each time.
    read.bytes[0] = 9;
    expect(v.value()).toEqual({ n: 2, bytes: Uint8Array.of(1, 2) });
    expect(b.fullSnapshot().entries.length).toBe(2); // the entry and its state table row

    const l = b.listState<{ x: number }>('l');
    const first = { x: 1 };
    l.add(first);
    expect(l.get()[0]).toBe(first);
    expect(l.get()).toBe(l.get());
    b.snapshot();
    l.add({ x: 2 });
    expect(l.get()).toEqual([{ x: 1 }, { x: 2 }]);

    const m = b.mapState<string, { y: number }>('m');
    const entry = { y: 1 };
    m.put('a', entry);
    expect(m.get('a')).toBe(entry);
    expect([...m.values()][0]).toBe(entry);
  });
});
