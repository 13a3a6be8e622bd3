// LmdbKeyedStateBackend stage 2: a restored delta served from memory while a background flush writes it to LMDB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  LmdbKeyedStateBackend,
  type LmdbKeyedStateBackendOptions,
  openStateEnvironment,
  StateFlushError,
} from '../../../src/state/lmdb/lmdb-keyed-state-backend.ts';
import { type ChunkEntries, decodeChunk, type DeltaChunk, encodeChunk, readChunkEntries } from '../../../src/state/snapshot/delta-chunk.ts';
import type { KeyValue } from '../../../src/state/types.ts';
import { Chains, expectMatches, KEY_POOL, Model, randomOps, rng } from './state-model.ts';

let dir: string;
let env: RootDatabase;
let dbCounter = 0;
const live: LmdbKeyedStateBackend[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-lmdb-flush-'));
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
    dbName: `flush-${dbCounter++}`,
    keyGroupRange: { start: 0, end: 127 },
    maxParallelism: 128,
    keyGroupsPerChunk: 16,
    restoredFlush: 'manual',
    ...options,
  });
  live.push(b);
  return b;
}

const encoded = (chunks: readonly DeltaChunk[], name: string): ChunkEntries[] => chunks.map((c, i) => readChunkEntries(encodeChunk(c), `${name}-${i}`));

/**
 * A job's state at a handover: `source` is A (its checkpoints build `chains`), `follower` is B
 * after stage 1 (A's bases) and stage 2 (A's last delta, in the restored layer, nothing flushed).
 */
function handoverAt(seed: number, followerOptions: Partial<LmdbKeyedStateBackendOptions> = {}) {
  const random = rng(seed);
  const source = create();
  const model = new Model();
  randomOps(source, model, random, 900);
  source.snapshot();
  const chains = new Chains();
  for (const r of source.chunkRanges) chains.materialize(source, r);
  const follower = create(followerOptions);
  follower.restore(chains.all());
  // A's target delta: new keys, updates, deletions, map entries and lists.
  randomOps(source, model, random, 400);
  const target = source.snapshot().chunks.map((c) => c.chunk);
  for (const chunk of target) chains.byRange.get(chunk.range.start)?.push(decodeChunk(encodeChunk(chunk), 'target'));
  const applied = follower.applyToOverlay(encoded(target, 'target'));
  return { random, source, model, chains, follower, applied };
}

/** A fresh backend restored from the chains: what a restart after a crash would hold. */
function restoredCopy(chains: Chains): LmdbKeyedStateBackend {
  const copy = create();
  copy.restore(chains.all());
  return copy;
}

describe('LmdbKeyedStateBackend restored layer (handover stage 2)', () => {
  it('serves the restored delta at once, leaves it out of the next delta, and the chain still restores exactly', () => {
    const { model, chains, follower, applied } = handoverAt(41);
    expect(applied).toBeGreaterThan(0);
    expect(follower.restoredPending()).toBe(applied);
    expectMatches(follower, model);
    // B's first checkpoint with nothing processed: no chunk at all (the delta is not uploaded again).
    expect(follower.snapshot().chunks).toEqual([]);
    expect(follower.restoredPending()).toBe(applied);
    expectMatches(restoredCopy(chains), model);
  });

  it('a processing write of a restored key wins over the restored value, before and after each flush slice', () => {
    const { random, model, chains, follower } = handoverAt(43);
    // Interleave: records processed, a flush slice, sometimes a checkpoint; check everything each round.
    let rounds = 0;
    do {
      randomOps(follower, model, random, 40);
      expectMatches(follower, model);
      if (rounds % 3 === 2) chains.addSnapshot(follower);
      rounds++;
    } while (follower.flushRestoredSlice(25));
    expect(rounds).toBeGreaterThan(3);
    expect(follower.restoredPending()).toBe(0);
    expectMatches(follower, model);
    chains.addSnapshot(follower);
    expectMatches(restoredCopy(chains), model);
  });

  it('a restored key deleted by processing before the first checkpoint stays deleted in the chain', () => {
    const source = create();
    const count = source.valueState<number>('count');
    const tags = source.mapState<string, number>('tags');
    const log = source.listState<string>('log');
    source.setCurrentKey('old');
    count.update(1);
    source.snapshot();
    const chains = new Chains();
    for (const r of source.chunkRanges) chains.materialize(source, r);
    const follower = create();
    follower.restore(chains.all());
    // The target's delta creates keys that B's LMDB never held...
    source.setCurrentKey('new');
    count.update(7);
    tags.put('a', 1);
    log.add('x');
    const target = source.snapshot().chunks.map((c) => c.chunk);
    for (const chunk of target) chains.byRange.get(chunk.range.start)?.push(decodeChunk(encodeChunk(chunk), 'target'));
    follower.applyToOverlay(encoded(target, 'target'));
    // ...and B deletes them before its first checkpoint, while they are still only in memory.
    follower.setCurrentKey('new');
    follower.valueState<number>('count').clear();
    follower.mapState<string, number>('tags').clear();
    follower.listState<string>('log').clear();
    expect(follower.keyCount()).toBe(1);
    chains.addSnapshot(follower);
    const copy = restoredCopy(chains);
    copy.setCurrentKey('new');
    expect(copy.valueState<number>('count').value()).toBeUndefined();
    expect([...copy.mapState<string, number>('tags').entries()]).toEqual([]);
    expect(copy.listState<string>('log').get()).toEqual([]);
    expect(copy.keyCount()).toBe(1);
  });

  it('a base taken during the flush holds the restored entries not yet in LMDB', () => {
    const { random, model, follower } = handoverAt(47);
    follower.flushRestoredSlice(30);
    randomOps(follower, model, random, 100);
    follower.snapshot();
    const copy = create();
    copy.restore(follower.chunkRanges.map((r) => decodeChunk(encodeChunk(follower.fullSnapshot(r)), 'base')));
    expectMatches(copy, model);
    expect(follower.restoredPending()).toBeGreaterThan(0);
  });

  it('a crash during the flush loses nothing: the local LMDB is a cache, the checkpoint chain is the truth', () => {
    const name = `crash-${dbCounter++}`;
    const { random, model, chains, follower } = handoverAt(53, { dbName: name, retain: true });
    randomOps(follower, model, random, 120);
    chains.addSnapshot(follower); // B's first checkpoint, taken mid-flush
    randomOps(follower, model, random, 60); // processed after it: lost with the crash, replayed from the source
    follower.flushRestoredSlice(40);
    expect(follower.restoredPending()).toBeGreaterThan(0);
    live.splice(live.indexOf(follower), 1);
    follower.dispose(); // the process dies: the restored layer is gone, LMDB keeps a partial flush
    // What the local LMDB holds now is not the state of any checkpoint...
    const reopened = create({ dbName: name, retain: true });
    const atCheckpoint = modelOf(restoredCopy(chains));
    expect(modelOf(reopened)).not.toEqual(atCheckpoint);
    // ...and a restart restores the chain over it: exactly the checkpoint's state.
    reopened.restore(chains.all());
    expectMatches(reopened, atCheckpoint);
  });

  it('flushes in the background between turns of the event loop while records are processed', async () => {
    const { random, model, chains, follower } = handoverAt(59, { restoredFlush: 'background', flushSliceMs: 0.05 });
    const flushed = follower.whenRestoredFlushed();
    let turns = 0;
    while (follower.restoredPending() > 0) {
      randomOps(follower, model, random, 10);
      if (turns % 4 === 0) chains.addSnapshot(follower);
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
    await flushed;
    const stats = follower.restoredFlushStats();
    expect(stats.slices).toBeGreaterThan(1);
    expect(turns).toBeGreaterThan(1);
    expectMatches(follower, model);
    chains.addSnapshot(follower);
    expectMatches(restoredCopy(chains), model);
  });

  it('chunks applied out of key order (another chain order, a second delta on top) flush every entry once, the newest value last', () => {
    const random = rng(67);
    const source = create();
    const model = new Model();
    randomOps(source, model, random, 600);
    source.snapshot();
    const follower = create();
    follower.restore(source.chunkRanges.map((r) => decodeChunk(encodeChunk(source.fullSnapshot(r)), 'base')));
    for (let round = 0; round < 2; round++) {
      randomOps(source, model, random, 300);
      const delta = source.snapshot().chunks.map((c) => c.chunk).reverse();
      follower.applyToOverlay(encoded(delta, `delta-${round}`));
      follower.flushRestoredSlice(40);
    }
    while (follower.flushRestoredSlice(40)) expectMatches(follower, model);
    expect(follower.restoredPending()).toBe(0);
    expectMatches(follower, model);
  });

  it('a failed flush transaction keeps the entries readable and fails the next checkpoint loudly', () => {
    const { model, follower } = handoverAt(71);
    const db = follower.db as unknown as { transactionSync: (f: () => void) => void };
    const original = db.transactionSync;
    db.transactionSync = () => {
      throw new Error('MDB_MAP_FULL: Environment mapsize limit reached');
    };
    try {
      expect(() => follower.flushRestoredSlice()).toThrow(StateFlushError);
    } finally {
      db.transactionSync = original;
    }
    expectMatches(follower, model);
    const error = (() => {
      try {
        follower.snapshot();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StateFlushError);
    expect((error as StateFlushError).code).toBe('BATON_ERR_STATE_FLUSH');
    expect((error as StateFlushError).message).toMatch(/MDB_MAP_FULL/);
  });

  it('a delta applied straight to LMDB during the flush is not shadowed by older restored entries', () => {
    const { random, source, model, follower } = handoverAt(61);
    follower.flushRestoredSlice(20);
    randomOps(source, model, random, 300);
    follower.restoreEncoded(encoded(source.snapshot().chunks.map((c) => c.chunk), 'next'), null);
    expect(follower.restoredPending()).toBe(0);
    expectMatches(follower, model);
  });
});

/** The model of a backend's content, read back through its handles for every key of the pool. */
function modelOf(b: LmdbKeyedStateBackend): Model {
  const model = new Model();
  for (const key of KEY_POOL) {
    b.setCurrentKey(key);
    const v = b.valueState<unknown>('value').value();
    if (v !== undefined) model.value.set(key, v);
    const m = new Map(b.mapState<KeyValue, unknown>('map').entries());
    if (m.size > 0) model.map.set(key, m);
    const l = b.listState<unknown>('list').get();
    if (l.length > 0) model.list.set(key, [...l]);
  }
  return model;
}
