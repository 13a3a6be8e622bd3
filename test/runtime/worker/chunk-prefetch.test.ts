// Handover: chunks of passed-over checkpoints downloaded while B waits, so stage 2 fetches only the stop checkpoint's own.
import { describe, expect, it } from 'vitest';
import { CorruptCheckpointError } from '../../../src/checkpoint/errors.ts';
import { StorageNotFoundError } from '../../../src/checkpoint/storage/errors.ts';
import type { KeyGroupChain } from '../../../src/checkpoint/types.ts';
import type { Subtask } from '../../../src/runtime/task/subtask.ts';
import { ChunkPrefetch, chunksToApply } from '../../../src/runtime/worker/chunk-prefetch.ts';
import { WorkerCheckpoints } from '../../../src/runtime/worker/worker-checkpoints.ts';
import type { KeyedStateBackend, StateChunk } from '../../../src/state/types.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';
import { chain, chunk } from '../../checkpoint/metadata/fixtures.ts';

const ids = (refs: readonly { id: string }[]) => refs.map((r) => r.id);

describe('chunksToApply', () => {
  it('continues a chain that only grew, takes a new base\'s stored delta when the base was written from what is applied, reloads otherwise', () => {
    expect(ids(chunksToApply(chain(0, 127, 'b1', 'd2', 'd3'), ['b1', 'd2']).todo)).toEqual(['d3']);
    expect(chunksToApply(chain(0, 127, 'b1', 'd2'), ['b1', 'd2'])).toEqual({ todo: [], replace: false });
    const rebased: KeyGroupChain = { ...chain(0, 127, 'b4'), rebased: { from: ['b1', 'd2'], delta: [chunk('r4')] } };
    expect(chunksToApply(rebased, ['b1', 'd2'])).toEqual({ todo: [chunk('r4')], replace: false });
    // Passed over d3 before the new base: the range is reloaded from it.
    expect(chunksToApply(rebased, ['b1'])).toMatchObject({ replace: true });
    expect(ids(chunksToApply(rebased, ['b1']).todo)).toEqual(['b4']);
    expect(chunksToApply(chain(0, 127, 'b1'), [])).toMatchObject({ replace: true });
  });
});

describe('ChunkPrefetch', () => {
  it('downloads each chunk once, hands it out once, forgets a failed download and stops at its byte cap', async () => {
    const prefetch = new ChunkPrefetch(250);
    let fetches = 0;
    const bytes = (s: string) => async () => {
      fetches++;
      return new TextEncoder().encode(s);
    };
    expect(prefetch.start(chunk('a', 'delta', 100), bytes('a'))).toBe(true);
    expect(prefetch.start(chunk('a', 'delta', 100), bytes('a'))).toBe(false);
    expect(prefetch.start(chunk('b', 'delta', 100), async () => Promise.reject(new Error('gone')))).toBe(true);
    // 200 of 250 bytes under way: a third chunk of 100 is left to whoever needs it.
    expect(prefetch.start(chunk('c', 'delta', 100), bytes('c'))).toBe(false);
    expect(new TextDecoder().decode(await prefetch.take('a'))).toBe('a');
    expect(await prefetch.take('a')).toBeUndefined();
    expect(await prefetch.take('b')).toBeUndefined();
    expect(fetches).toBe(1);
    expect(prefetch.start(chunk('c', 'delta', 100), bytes('c'))).toBe(true);
    prefetch.clear();
    expect(prefetch.size).toBe(0);
  });
});

/** A backend that records, per call, which chunks it applied and whether it cleared a range first. */
function setup() {
  const storage = new MemoryStorage();
  const get = storage.get.bind(storage);
  const tried: string[] = [];
  storage.get = async (key) => {
    tried.push(key);
    if (!storage.objects.has(key)) throw new StorageNotFoundError(storage.uri, key);
    return get(key);
  };
  const applied: string[][] = [];
  const backend = {
    keyGroupRange: { start: 0, end: 127 },
    snapshotDelta: () => [],
    snapshotBase: () => undefined,
    restoreChunks: () => {},
    applyChunks: (chunks: StateChunk[], clear?: unknown) => applied.push([...(clear ? ['clear'] : []), ...chunks.map((c) => (c as unknown as { name: string }).name)]),
  } as unknown as KeyedStateBackend;
  const codec = { encode: () => new Uint8Array(), decode: (_: Uint8Array, name: string) => ({ name }) as unknown as StateChunk };
  const checkpoints = new WorkerCheckpoints(storage, codec, { ack: () => {}, decline: () => {} });
  const subtask = { keyedStateOf: () => backend } as unknown as Subtask;
  const follow = (chains: KeyGroupChain[], checkpointId: number, overlay = false) => checkpoints.followKeyed(subtask, 'sum', chains, { checkpointId, overlay });
  return { storage, checkpoints, applied, follow, gets: () => tried };
}

describe('a worker prefetching the chunks of passed-over checkpoints', () => {
  it('stage 2 takes them from memory and fetches only the stop checkpoint\'s own chunk; the state is the same as without', async () => {
    const { storage, checkpoints, applied, follow, gets } = setup();
    for (const id of ['s1', 's2', 's3', 's4']) storage.seed(`shared/${id}`, id);
    await follow([chain(0, 127, 's1')], 1);
    // Passed over 2 and 3: their deltas are downloaded, not applied.
    expect(checkpoints.prefetchKeyed('sum', [chain(0, 127, 's1', 's2')])).toBe(1);
    expect(checkpoints.prefetchKeyed('sum', [chain(0, 127, 's1', 's2', 's3')])).toBe(1);
    expect(applied).toEqual([['clear', 's1']]);
    const before = gets().length;
    expect(before).toBe(3);
    const result = await follow([chain(0, 127, 's1', 's2', 's3', 's4')], 4, true);
    expect(gets().slice(before)).toEqual(['shared/s4']);
    expect(applied).toEqual([['clear', 's1'], ['s2', 's3', 's4']]);
    expect(result).toMatchObject({ chunks: 3, reloads: 0 });
  });

  it('a prefetch that failed is fetched again by stage 2, which reports a missing chunk as before', async () => {
    const { storage, checkpoints, follow, gets } = setup();
    storage.seed('shared/s1', 's1');
    await follow([chain(0, 127, 's1')], 1);
    checkpoints.prefetchKeyed('sum', [chain(0, 127, 's1', 's2')]);
    const error = await follow([chain(0, 127, 's1', 's2')], 2, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect(error).toMatchObject({ reason: 'missing', key: 'shared/s2' });
    expect(gets().filter((k) => k === 'shared/s2')).toHaveLength(2);
  });

  it('endPrefetch forgets what stage 2 did not take', async () => {
    const { storage, checkpoints, follow, gets } = setup();
    for (const id of ['s1', 's2']) storage.seed(`shared/${id}`, id);
    await follow([chain(0, 127, 's1')], 1);
    checkpoints.prefetchKeyed('sum', [chain(0, 127, 's1', 's2')]);
    checkpoints.endPrefetch();
    await follow([chain(0, 127, 's1', 's2')], 2, true);
    expect(gets().filter((k) => k === 'shared/s2')).toHaveLength(2);
  });
});
