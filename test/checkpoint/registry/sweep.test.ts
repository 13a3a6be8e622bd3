// The sweep of a job directory: retention over every completed checkpoint, and only garbage no running job can still need.
import { describe, expect, it } from 'vitest';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { chunkCheckpointId } from '../../../src/checkpoint/layout.ts';
import { isSweepable, sweepJobDirectory } from '../../../src/checkpoint/registry/sweep.ts';
import { listCheckpoints } from '../../../src/checkpoint/status/checkpoint-status.ts';
import type { KeyGroupChain } from '../../../src/checkpoint/types.ts';
import { MemoryStorage } from '../memory-storage.ts';
import { chain, makeMetadata } from '../metadata/fixtures.ts';

// Chunk ids as WorkerCheckpoints writes them: `<uid>-<start>-<end>-<checkpoint>-<kind>-<8 hex>`.
const id = (checkpoint: number, kind = 'delta', hex = '0000000a') => `sum-0-127-${checkpoint}-${kind}-${hex}`;

function writeCheckpoint(storage: MemoryStorage, n: number, chains: KeyGroupChain[]): void {
  for (const c of chains) for (const ref of c.chain) storage.seed(`shared/${ref.id}`, ref.id);
  storage.seed(`chk-${n}/channel-sum-0`, 'x');
  storage.seed(`chk-${n}/_metadata`, encodeMetadata(makeMetadata(n, chains)));
}

/**
 * A directory three runs wrote: completed 1, 2 (old run), 5, 6 (a later one), 8 (the running job);
 * 3 FAILED, 4 cut off (IN_PROGRESS), 7 FAILED; chunks each checkpoint uploaded, orphans of 3, 4 and 7,
 * an in-flight chunk of 9, spill segments, a file baton never writes, and a stop request.
 */
function directory(): MemoryStorage {
  const storage = new MemoryStorage();
  writeCheckpoint(storage, 1, [chain(0, 127, id(1, 'base'))]);
  writeCheckpoint(storage, 2, [chain(0, 127, id(1, 'base'), id(2))]);
  storage.seed(`shared/${id(3)}`);
  storage.seed('chk-3/_FAILED', '{"checkpointId":3,"reason":"declined"}');
  storage.seed(`shared/${id(4)}`);
  storage.seed('chk-4/channel-sum-0');
  writeCheckpoint(storage, 5, [chain(0, 127, id(1, 'base'), id(2), id(5))]);
  writeCheckpoint(storage, 6, [chain(0, 127, id(6, 'base'))]);
  storage.seed(`shared/${id(7)}`);
  storage.seed('chk-7/_FAILED', '{"checkpointId":7,"reason":"timed out"}');
  writeCheckpoint(storage, 8, [chain(0, 127, id(6, 'base'), id(8))]);
  storage.seed(`shared/${id(9)}`);
  storage.seed('chk-9/channel-sum-0');
  storage.seed('shared/spill-sum-0-0a0b0c0d-3');
  storage.seed('shared/someone-elses-file');
  storage.seed('handover/stop-request.json', '{}');
  return storage;
}

const shared = (storage: MemoryStorage) => [...storage.objects.keys()].filter((k) => k.startsWith('shared/')).sort();

describe('chunk names', () => {
  it('carry the checkpoint they were written for', () => {
    expect(chunkCheckpointId('sum-0-127-12-delta-0a1b2c3d')).toBe(12);
    expect(chunkCheckpointId('my-op-3-64-127-7-base-ffffffff')).toBe(7);
    expect(chunkCheckpointId('spill-sum-0-0a0b0c0d-3')).toBeUndefined();
    expect(chunkCheckpointId('z')).toBeUndefined();
  });

  it('are sweepable below the running job, spill segments only at a takeover, unknown names never', () => {
    expect(isSweepable(id(7), { activeFrom: 9, spillSegments: false })).toBe(true);
    expect(isSweepable(id(9), { activeFrom: 9, spillSegments: false })).toBe(false);
    expect(isSweepable('spill-sum-0-0a0b0c0d-3', { activeFrom: 9, spillSegments: false })).toBe(false);
    expect(isSweepable('spill-sum-0-0a0b0c0d-3', { activeFrom: Number.POSITIVE_INFINITY, spillSegments: true })).toBe(true);
    expect(isSweepable('someone-elses-file', { activeFrom: Number.POSITIVE_INFINITY, spillSegments: true })).toBe(false);
  });
});

describe('sweepJobDirectory', () => {
  it('while the job runs: keeps `retain` completed checkpoints and what they use, removes older failures and orphans', async () => {
    const storage = directory();
    const report = await sweepJobDirectory(storage, { retain: 2, activeFrom: 9, spillSegments: false });
    expect(report.discarded).toEqual([1, 2, 5]);
    expect(report.abandoned).toEqual([3, 4, 7]);
    expect(report.orphans).toEqual([id(3), id(4), id(7)]);
    expect((await listCheckpoints(storage)).map((c) => `${c.id}:${c.status}`)).toEqual(['6:COMPLETED', '8:COMPLETED', '9:IN_PROGRESS']);
    // 9 is in flight (its chunk stays), the spill segment may belong to a live log, the unknown file is not ours.
    expect(shared(storage)).toEqual(['shared/someone-elses-file', 'shared/spill-sum-0-0a0b0c0d-3', `shared/${id(6, 'base')}`, `shared/${id(8)}`, `shared/${id(9)}`]);
    expect(storage.objects.has('handover/stop-request.json')).toBe(true);
  });

  it('at a takeover from 8: unreferenced spill segments go too, newer folders stay (their ids must not be reused)', async () => {
    const storage = directory();
    const report = await sweepJobDirectory(storage, { retain: 2, activeFrom: 9, spillSegments: true, pinned: [8] });
    expect(report.discarded).toEqual([1, 2, 5]);
    expect(report.abandoned).toEqual([3, 4, 7]);
    expect((await listCheckpoints(storage)).map((c) => `${c.id}:${c.status}`)).toEqual(['6:COMPLETED', '8:COMPLETED', '9:IN_PROGRESS']);
    expect(shared(storage)).toEqual(['shared/someone-elses-file', `shared/${id(6, 'base')}`, `shared/${id(8)}`, `shared/${id(9)}`]);
  });

  it('at a takeover from an older checkpoint: it stays even beyond retention', async () => {
    const storage = directory();
    const report = await sweepJobDirectory(storage, { retain: 1, activeFrom: 6, spillSegments: true, pinned: [5] });
    expect(report.discarded).toEqual([1, 2, 6]);
    expect(report.abandoned).toEqual([3, 4]);
    expect((await listCheckpoints(storage)).map((c) => c.id)).toEqual([5, 7, 8, 9]);
    expect(shared(storage)).toContain(`shared/${id(5)}`);
    expect(shared(storage)).toContain(`shared/${id(1, 'base')}`);
    expect(shared(storage)).not.toContain('shared/spill-sum-0-0a0b0c0d-3');
  });

  it('leaves keys under shared/ that are not chunk files (nested, hidden), even when nothing references them', async () => {
    const storage = directory();
    storage.seed('shared/nested/x', 'x');
    storage.seed('shared/.hidden', 'x');
    const report = await sweepJobDirectory(storage, { retain: 2, activeFrom: 9, spillSegments: true });
    expect(report.orphans).toEqual(['spill-sum-0-0a0b0c0d-3', id(3), id(4), id(7)]);
    expect(shared(storage)).toEqual(['shared/.hidden', 'shared/nested/x', 'shared/someone-elses-file', `shared/${id(6, 'base')}`, `shared/${id(8)}`, `shared/${id(9)}`]);
  });

  it('deletes no chunk while a completed checkpoint is unreadable: its references are unknown', async () => {
    const storage = directory();
    storage.seed('chk-6/_metadata', 'BTNC garbage');
    const report = await sweepJobDirectory(storage, { retain: 2, activeFrom: 9, spillSegments: false });
    expect(report.unreadable).toEqual([6]);
    expect(report.orphans).toEqual([]);
    expect(shared(storage)).toContain(`shared/${id(1, 'base')}`);
    expect(shared(storage)).toContain(`shared/${id(7)}`);
  });

  it('removes the metadata of a discarded checkpoint before its files', async () => {
    const storage = directory();
    await sweepJobDirectory(storage, { retain: 4, activeFrom: 9, spillSegments: false });
    const deletes = storage.calls.filter((c) => c.startsWith('delete chk-1/'));
    expect(deletes[0]).toBe('delete chk-1/_metadata');
  });
});
