// Reference counting of shared chunks across retained checkpoints, and retention planning.
import { describe, expect, it } from 'vitest';
import { SharedChunkRegistry, chunkIdsOf, planRetention } from '../../../src/checkpoint/registry/shared-chunk-registry.ts';
import { chain, makeMetadata } from '../metadata/fixtures.ts';

describe('SharedChunkRegistry', () => {
  // Incremental chains: chk-1 = base b; chk-2 = b + d2; chk-3 = b + d2 + d3; chk-4 materializes a new base.
  function overlapping(): SharedChunkRegistry {
    const registry = new SharedChunkRegistry();
    registry.register(1, ['b']);
    registry.register(2, ['b', 'd2']);
    registry.register(3, ['b', 'd2', 'd3']);
    registry.register(4, ['b4']);
    return registry;
  }

  it('frees a chunk shared by three checkpoints only when the last of them goes', () => {
    const registry = overlapping();
    expect(registry.referencedBy('b')).toEqual([1, 2, 3]);
    expect(registry.release(1)).toEqual([]);
    expect(registry.referencedBy('b')).toEqual([2, 3]);
    expect(registry.release(2)).toEqual([]);
    expect(registry.isReferenced('d2')).toBe(true);
    expect(registry.release(3)).toEqual(['b', 'd2', 'd3']);
    expect(registry.isReferenced('b')).toBe(false);
    expect(registry.referencedBy('b')).toEqual([]);
    expect(registry.retainedCheckpoints()).toEqual([4]);
    expect(registry.referencedChunks()).toEqual(['b4']);
  });

  it('frees chunks in whatever order checkpoints are released', () => {
    const registry = overlapping();
    expect(registry.release(3)).toEqual(['d3']);
    expect(registry.release(1)).toEqual([]);
    expect(registry.release(2)).toEqual(['b', 'd2']);
  });

  it('counts a chunk listed twice by one checkpoint once', () => {
    const registry = new SharedChunkRegistry();
    registry.register(1, ['a', 'a']);
    registry.register(2, ['a']);
    expect(registry.release(2)).toEqual([]);
    expect(registry.release(1)).toEqual(['a']);
  });

  it('releasing an unknown or already released checkpoint frees nothing', () => {
    const registry = overlapping();
    expect(registry.release(99)).toEqual([]);
    expect(registry.release(4)).toEqual(['b4']);
    expect(registry.release(4)).toEqual([]);
  });

  it('refuses to register a checkpoint twice', () => {
    const registry = overlapping();
    expect(() => registry.register(2, ['x'])).toThrow(/already registered/);
    expect(registry.referencedBy('x')).toEqual([]);
  });

  it('a checkpoint without keyed state is retained with no chunks', () => {
    const registry = new SharedChunkRegistry();
    registry.register(5, []);
    expect(registry.retainedCheckpoints()).toEqual([5]);
    expect(registry.release(5)).toEqual([]);
    expect(registry.retainedCheckpoints()).toEqual([]);
  });
});

describe('chunkIdsOf', () => {
  it('collects every chunk of every chain, once, sorted', () => {
    const meta = makeMetadata(3, [chain(0, 63, 'b', 'd2', 'd3'), chain(64, 127, 'b', 'e2')]);
    expect(chunkIdsOf(meta)).toEqual(['b', 'd2', 'd3', 'e2']);
  });
});

describe('planRetention', () => {
  it('discards the oldest beyond `retain`, whatever the input order', () => {
    expect(planRetention([3, 1, 4, 2], 2)).toEqual([1, 2]);
    expect(planRetention([5, 9, 7], 1)).toEqual([5, 7]);
    expect(planRetention([1, 2], 2)).toEqual([]);
    expect(planRetention([1, 2], 5)).toEqual([]);
    expect(planRetention([], 3)).toEqual([]);
    expect(planRetention([2, 2, 1], 1)).toEqual([1]);
  });

  it('never discards the newest completed checkpoint', () => {
    expect(planRetention([1, 2, 3], 0)).toEqual([1, 2]);
    expect(planRetention([1, 2, 3], -4)).toEqual([1, 2]);
  });

  it('rejects a retain count that is not an integer', () => {
    expect(() => planRetention([1], 1.5)).toThrow(RangeError);
    expect(() => planRetention([1], Number.NaN)).toThrow(RangeError);
  });
});
