// The registry rebuilt from storage, deletes of unreferenced chunks, discarding checkpoints (orphan chunks: sweep.test.ts).
import { describe, expect, it } from 'vitest';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { deleteUnreferenced, discardCheckpoint, rebuildRegistry } from '../../../src/checkpoint/registry/chunk-cleaner.ts';
import { planRetention } from '../../../src/checkpoint/registry/shared-chunk-registry.ts';
import { checkpointStatus, findLatestRestorable, listCheckpoints } from '../../../src/checkpoint/status/checkpoint-status.ts';
import type { KeyGroupChain } from '../../../src/checkpoint/types.ts';
import { MemoryStorage } from '../memory-storage.ts';
import { chain, makeMetadata } from '../metadata/fixtures.ts';

function writeCheckpoint(storage: MemoryStorage, n: number, chains: KeyGroupChain[]): void {
  for (const c of chains) for (const ref of c.chain) storage.seed(`shared/${ref.id}`, ref.id);
  storage.seed(`chk-${n}/channel-state.0`, 'x');
  storage.seed(`chk-${n}/_metadata`, encodeMetadata(makeMetadata(n, chains)));
}

/**
 * chk-1: b | c          chk-2: b,d2 | c         chk-3: b,d2,d3 | c,e3
 * chk-4: FAILED (uploaded f4)   chk-5: IN_PROGRESS (uploaded g5)   plus an old orphan 'z'.
 */
function jobDir(): MemoryStorage {
  const storage = new MemoryStorage();
  writeCheckpoint(storage, 1, [chain(0, 63, 'b'), chain(64, 127, 'c')]);
  writeCheckpoint(storage, 2, [chain(0, 63, 'b', 'd2'), chain(64, 127, 'c')]);
  writeCheckpoint(storage, 3, [chain(0, 63, 'b', 'd2', 'd3'), chain(64, 127, 'c', 'e3')]);
  storage.seed('shared/f4', 'f4');
  storage.seed('chk-4/_FAILED', '{"checkpointId":4,"reason":"declined"}');
  storage.seed('shared/g5', 'g5');
  storage.seed('chk-5/channel-state.0', 'x');
  storage.seed('shared/z', 'z');
  return storage;
}

describe('rebuildRegistry', () => {
  it('registers every completed checkpoint with the chunks its metadata lists', async () => {
    const { registry, skipped } = await rebuildRegistry(jobDir());
    expect(skipped).toEqual([]);
    expect(registry.retainedCheckpoints()).toEqual([1, 2, 3]);
    expect(registry.referencedBy('b')).toEqual([1, 2, 3]);
    expect(registry.referencedBy('c')).toEqual([1, 2, 3]);
    expect(registry.referencedBy('d2')).toEqual([2, 3]);
    expect(registry.referencedBy('e3')).toEqual([3]);
    expect(registry.referencedChunks()).toEqual(['b', 'c', 'd2', 'd3', 'e3']);
  });

  it('reports a corrupt completed checkpoint instead of registering it', async () => {
    const storage = jobDir();
    storage.seed('chk-2/_metadata', 'BTNC but not really');
    const { registry, skipped } = await rebuildRegistry(storage);
    expect(registry.retainedCheckpoints()).toEqual([1, 3]);
    expect(skipped.map((s) => [s.id, s.error.name])).toEqual([[2, 'CorruptMetadataError']]);
  });

  it('fails on a storage error: a registry missing a checkpoint would free its chunks', async () => {
    const storage = jobDir();
    storage.failOn('get', /^chk-3\//, () => new Error('503 slow down'));
    await expect(rebuildRegistry(storage)).rejects.toThrow('503 slow down');
  });
});

describe('deleteUnreferenced', () => {
  it('deletes only candidates no retained checkpoint references', async () => {
    const storage = jobDir();
    const { registry } = await rebuildRegistry(storage);
    registry.release(1);
    const deleted = await deleteUnreferenced(storage, registry, ['b', 'z', 'f4', 'z']);
    expect(deleted).toEqual(['f4', 'z']);
    expect(storage.objects.has('shared/b')).toBe(true);
    expect(storage.objects.has('shared/z')).toBe(false);
    expect(storage.objects.has('shared/f4')).toBe(false);
  });

  it('deletes nothing when a candidate id is unsafe', async () => {
    const storage = jobDir();
    const { registry } = await rebuildRegistry(storage);
    await expect(deleteUnreferenced(storage, registry, ['z', '../chk-3/_metadata'])).rejects.toThrow(RangeError);
    expect(storage.objects.has('shared/z')).toBe(true);
    expect(storage.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
  });
});

describe('discardCheckpoint', () => {
  it('applies retention: deletes metadata first, then chunks used by nobody else, then the rest', async () => {
    const storage = jobDir();
    const { registry } = await rebuildRegistry(storage);
    const completed = (await listCheckpoints(storage)).filter((c) => c.status === 'COMPLETED').map((c) => c.id);
    const discard = planRetention(completed, 1);
    expect(discard).toEqual([1, 2]);
    storage.calls.length = 0;
    for (const n of discard) expect(await discardCheckpoint(storage, registry, n)).toEqual([]);
    // chk-1 and chk-2 only used chunks that chk-3 still needs.
    expect(storage.calls.filter((c) => c.startsWith('delete'))).toEqual([
      'delete chk-1/_metadata',
      'delete chk-1/channel-state.0',
      'delete chk-2/_metadata',
      'delete chk-2/channel-state.0',
    ]);
    expect([...storage.objects.keys()].filter((k) => k.startsWith('shared/'))).toEqual(['shared/b', 'shared/c', 'shared/d2', 'shared/d3', 'shared/e3', 'shared/f4', 'shared/g5', 'shared/z']);
    const found = await findLatestRestorable(storage);
    expect(found.latest?.id).toBe(3);

    // A new base for the left range makes b, d2, d3 unused once chk-3 goes.
    writeCheckpoint(storage, 6, [chain(0, 63, 'b6'), chain(64, 127, 'c', 'e3')]);
    registry.register(6, ['b6', 'c', 'e3']);
    expect(await discardCheckpoint(storage, registry, 3)).toEqual(['b', 'd2', 'd3']);
    expect(storage.objects.has('shared/b')).toBe(false);
    expect(storage.objects.has('shared/c')).toBe(true);
    expect(await checkpointStatus(storage, 3)).toBe('UNKNOWN');
  });

  it('a crash while deleting chunks leaves the discarded checkpoint no longer COMPLETED and the newest restorable', async () => {
    const storage = jobDir();
    const { registry } = await rebuildRegistry(storage);
    writeCheckpoint(storage, 6, [chain(0, 127, 'b6')]);
    registry.register(6, ['b6']);
    registry.release(1);
    registry.release(2);
    storage.failOn('delete', /^shared\//);
    await expect(discardCheckpoint(storage, registry, 3)).rejects.toThrow('injected delete failure');
    expect(await checkpointStatus(storage, 3)).toBe('IN_PROGRESS');
    expect((await findLatestRestorable(storage)).latest?.id).toBe(6);
  });
});
