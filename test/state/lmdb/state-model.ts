// A reference model of keyed state and random operations on it, shared by the LMDB backend tests.
import { expect } from 'vitest';
import { keyGroupFor } from '../../../src/state/key-groups.ts';
import type { LmdbKeyedStateBackend } from '../../../src/state/lmdb/lmdb-keyed-state-backend.ts';
import { decodeChunk, type DeltaChunk, encodeChunk } from '../../../src/state/snapshot/delta-chunk.ts';
import type { KeyGroupRange, KeyValue } from '../../../src/state/types.ts';

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The reference model: what the backend should hold. */
export class Model {
  readonly value = new Map<KeyValue, unknown>();
  readonly map = new Map<KeyValue, Map<KeyValue, unknown>>();
  readonly list = new Map<KeyValue, unknown[]>();
}

export const KEY_POOL: KeyValue[] = [
  ...Array.from({ length: 60 }, (_, i) => i),
  ...Array.from({ length: 60 }, (_, i) => `key-${i}`),
  ...Array.from({ length: 10 }, (_, i) => BigInt(i) * 1_000_000_007n),
  'a',
  'ab',
  1.5,
  -3,
  true,
  false,
];
export const MAP_KEYS: KeyValue[] = ['a', 'ab', 'b', 1, 10, 2n, true, 'é', ''];

/** Random operations applied to the backend and the model alike. */
export function randomOps(b: LmdbKeyedStateBackend, model: Model, random: () => number, count: number, pool = KEY_POOL): void {
  const v = b.valueState<unknown>('value');
  const m = b.mapState<KeyValue, unknown>('map');
  const l = b.listState<unknown>('list');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  for (let i = 0; i < count; i++) {
    const key = pick(pool);
    b.setCurrentKey(key);
    const r = random();
    const payload = random() < 0.5 ? Math.floor(random() * 1000) : { n: Math.floor(random() * 100), s: 'x'.repeat(Math.floor(random() * 40)) };
    if (r < 0.25) {
      v.update(payload);
      model.value.set(key, payload);
    } else if (r < 0.32) {
      v.clear();
      model.value.delete(key);
    } else if (r < 0.55) {
      const mk = pick(MAP_KEYS);
      m.put(mk, payload);
      const mm = model.map.get(key) ?? new Map<KeyValue, unknown>();
      model.map.set(key, mm);
      mm.set(mk, payload);
    } else if (r < 0.65) {
      const mk = pick(MAP_KEYS);
      m.remove(mk);
      const mm = model.map.get(key);
      mm?.delete(mk);
      if (mm?.size === 0) model.map.delete(key);
    } else if (r < 0.68) {
      m.clear();
      model.map.delete(key);
    } else if (r < 0.85) {
      l.add(payload);
      const ll = model.list.get(key);
      if (ll === undefined) model.list.set(key, [payload]);
      else ll.push(payload);
    } else if (r < 0.9) {
      const vs = [payload, payload];
      l.addAll(vs);
      model.list.set(key, [...(model.list.get(key) ?? []), ...vs]);
    } else if (r < 0.95) {
      l.update([payload]);
      model.list.set(key, [payload]);
    } else {
      l.clear();
      model.list.delete(key);
    }
  }
}

/** Every state of every key in the pool (that the backend owns) equals the model. */
export function expectMatches(b: LmdbKeyedStateBackend, model: Model, pool = KEY_POOL): void {
  const v = b.valueState<unknown>('value');
  const m = b.mapState<KeyValue, unknown>('map');
  const l = b.listState<unknown>('list');
  const owned = pool.filter((k) => {
    const kg = keyGroupFor(k, b.maxParallelism);
    return kg >= b.keyGroupRange.start && kg <= b.keyGroupRange.end;
  });
  let keys = 0;
  for (const key of owned) {
    b.setCurrentKey(key);
    expect(v.value(), `value of ${String(key)}`).toEqual(model.value.get(key));
    expect(new Map(m.entries()), `map of ${String(key)}`).toEqual(model.map.get(key) ?? new Map());
    expect(m.isEmpty()).toBe(!model.map.has(key));
    expect(l.get(), `list of ${String(key)}`).toEqual(model.list.get(key) ?? []);
    if (model.value.has(key) || model.map.has(key) || model.list.has(key)) keys++;
  }
  expect(b.keyCount()).toBe(keys);
}

/** Chains of chunks per chunk range: a snapshot's deltas appended, or a base replacing the chain. */
export class Chains {
  readonly byRange = new Map<number, DeltaChunk[]>();

  addSnapshot(b: LmdbKeyedStateBackend): number {
    const { chunks } = b.snapshot();
    for (const { range, chunk } of chunks) {
      expect(chunk.kind).toBe('delta');
      expect(chunk.range).toEqual(range);
      // Through the codec, as a real checkpoint would.
      const decoded = decodeChunk(encodeChunk(chunk), 'test');
      const chain = this.byRange.get(range.start);
      if (chain === undefined) this.byRange.set(range.start, [decoded]);
      else chain.push(decoded);
    }
    return chunks.length;
  }

  materialize(b: LmdbKeyedStateBackend, range: KeyGroupRange): void {
    this.byRange.set(range.start, [decodeChunk(encodeChunk(b.fullSnapshot(range)), 'base')]);
  }

  all(): DeltaChunk[] {
    return [...this.byRange.entries()].sort((x, y) => x[0] - y[0]).flatMap(([, chain]) => chain);
  }
}
