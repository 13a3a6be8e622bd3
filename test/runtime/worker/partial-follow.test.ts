// A follow cut short by a chunk the running job discarded: what was applied stays exact chain by chain, and the next follow continues each chain.
import { describe, expect, it } from 'vitest';
import { CorruptCheckpointError } from '../../../src/checkpoint/errors.ts';
import { StorageNotFoundError } from '../../../src/checkpoint/storage/errors.ts';
import type { KeyGroupChain } from '../../../src/checkpoint/types.ts';
import type { Subtask } from '../../../src/runtime/task/subtask.ts';
import { WorkerCheckpoints } from '../../../src/runtime/worker/worker-checkpoints.ts';
import type { KeyedStateBackend, StateChunk } from '../../../src/state/types.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';
import { chain } from '../../checkpoint/metadata/fixtures.ts';

/** A backend that records, per call, which chunks it applied and whether it cleared a range first. */
function recordingBackend(start: number, end: number) {
  const applied: string[][] = [];
  const backend = {
    keyGroupRange: { start, end },
    snapshotDelta: () => [],
    snapshotBase: () => undefined,
    restoreChunks: () => {},
    applyChunks: (chunks: StateChunk[], clear?: unknown) => applied.push([...(clear ? ['clear'] : []), ...chunks.map((c) => (c as unknown as { name: string }).name)]),
  };
  return { applied, backend: backend as unknown as KeyedStateBackend };
}

function setup() {
  const storage = new MemoryStorage();
  // A missing object as the real storages report it.
  const get = storage.get.bind(storage);
  storage.get = async (key) => {
    if (!storage.objects.has(key)) throw new StorageNotFoundError(storage.uri, key);
    return get(key);
  };
  const codec = { encode: () => new Uint8Array(), decode: (_: Uint8Array, name: string) => ({ name }) as unknown as StateChunk };
  const checkpoints = new WorkerCheckpoints(storage, codec, { ack: () => {}, decline: () => {} });
  const sum = recordingBackend(0, 127);
  const count = recordingBackend(0, 127);
  const backends: Record<string, KeyedStateBackend> = { sum: sum.backend, count: count.backend };
  const subtask = { keyedStateOf: (uid: string) => backends[uid] } as unknown as Subtask;
  const follow = (uid: string, chains: KeyGroupChain[], checkpointId: number) => checkpoints.followKeyed(subtask, uid, chains, { checkpointId });
  return { storage, sum, count, follow };
}

describe('a follow cut short by a discarded chunk', () => {
  it('applies nothing of an operator whose chunk is gone, and the next checkpoint continues every chain from what it holds', async () => {
    const { storage, sum, count, follow } = setup();
    for (const id of ['s1', 's2', 'c1', 'c2', 's3', 'c3']) storage.seed(`shared/${id}`, id);
    // Checkpoint 1, fully followed.
    await follow('sum', [chain(0, 127, 's1')], 1);
    await follow('count', [chain(0, 127, 'c1')], 1);
    // Checkpoint 2: `sum` follows, then `count`'s delta is gone (A discarded 2 meanwhile).
    await follow('sum', [chain(0, 127, 's1', 's2')], 2);
    storage.objects.delete('shared/c2');
    const error = await follow('count', [chain(0, 127, 'c1', 'c2')], 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect(error).toMatchObject({ reason: 'missing', key: 'shared/c2' });
    expect(count.applied).toEqual([['clear', 'c1']]);
    // (The first load of a range clears it: there is nothing to continue yet.)
    // Checkpoint 3: `sum` continues from 2, `count` from 1 — and `count` got a new base at 3, so
    // its range is reloaded from that base (cleared first), never stacked on a stale state.
    await follow('sum', [chain(0, 127, 's1', 's2', 's3')], 3);
    await follow('count', [chain(0, 127, 'c3')], 3);
    expect(sum.applied).toEqual([['clear', 's1'], ['s2'], ['s3']]);
    expect(count.applied).toEqual([['clear', 'c1'], ['clear', 'c3']]);
  });

  it('a chain that only grew since is continued with every chunk it missed', async () => {
    const { storage, count, follow } = setup();
    for (const id of ['c1', 'c2', 'c3']) storage.seed(`shared/${id}`, id);
    await follow('count', [chain(0, 127, 'c1')], 1);
    storage.objects.delete('shared/c2');
    await follow('count', [chain(0, 127, 'c1', 'c2')], 2).catch(() => undefined);
    // 2 is gone as a checkpoint, but its delta is still used by 3 (the chain only grew): restored for the test.
    storage.seed('shared/c2', 'c2');
    await follow('count', [chain(0, 127, 'c1', 'c2', 'c3')], 3);
    expect(count.applied).toEqual([['clear', 'c1'], ['c2', 'c3']]);
  });
});
