// When an incremental chain gets a new base.
import { describe, expect, it } from 'vitest';
import type { ChunkRef } from '../../../src/checkpoint/types.ts';
import { needsNewBase } from '../../../src/runtime/worker/worker-checkpoints.ts';

const ref = (kind: 'base' | 'delta', bytes: number): ChunkRef => ({ id: `${kind}-${bytes}`, kind, bytes, entries: 1 });
const policy = { maxDeltas: 3, maxDeltaBytesRatio: 0.5 };

describe('needsNewBase', () => {
  it('starts every chain with a base', () => {
    expect(needsNewBase(undefined, policy)).toBe(true);
    expect(needsNewBase([], policy)).toBe(true);
  });

  it('adds deltas until the chain has maxDeltas of them', () => {
    const chain = [ref('base', 100_000), ref('delta', 10)];
    expect(needsNewBase(chain, policy)).toBe(false);
    expect(needsNewBase([...chain, ref('delta', 10), ref('delta', 10)], policy)).toBe(true);
  });

  it('writes a new base once the deltas outgrow the given share of the base', () => {
    expect(needsNewBase([ref('base', 100_000), ref('delta', 40_000)], policy)).toBe(false);
    expect(needsNewBase([ref('base', 100_000), ref('delta', 40_000), ref('delta', 20_000)], policy)).toBe(true);
  });
});
