// Checkpoint status from storage alone; listing, latest, metadata reads, restorable search, failure markers.
import { describe, expect, it } from 'vitest';
import { CheckpointNotFoundError, CorruptMetadataError, HostileCheckpointError } from '../../../src/checkpoint/errors.ts';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import {
  checkpointStatus,
  findLatestRestorable,
  latestCompleted,
  listCheckpoints,
  readFailedReason,
  readMetadata,
  writeFailedMarker,
} from '../../../src/checkpoint/status/checkpoint-status.ts';
import { MemoryStorage } from '../memory-storage.ts';
import { makeMetadata } from '../metadata/fixtures.ts';

function completed(storage: MemoryStorage, n: number): void {
  storage.seed(`chk-${n}/channel-0`, 'x');
  storage.seed(`chk-${n}/_metadata`, encodeMetadata(makeMetadata(n)));
}

/** Job dir with 1, 2 COMPLETED, 3 FAILED, 4 COMPLETED, 5 IN_PROGRESS, plus keys that are not checkpoints. */
function mixed(): MemoryStorage {
  const storage = new MemoryStorage();
  completed(storage, 1);
  completed(storage, 2);
  storage.seed('chk-3/channel-0', 'x');
  storage.seed('chk-3/_FAILED', '{"checkpointId":3,"reason":"timeout"}');
  completed(storage, 4);
  storage.seed('chk-5/channel-0', 'x');
  storage.seed('shared/b-1', 'chunk');
  storage.seed('chk-07/_metadata', 'not ours');
  storage.seed('chk-10x/_metadata', 'not ours');
  storage.seed('notes.txt', 'hello');
  return storage;
}

describe('checkpointStatus', () => {
  it('reads each status from storage', async () => {
    const storage = mixed();
    expect(await checkpointStatus(storage, 1)).toBe('COMPLETED');
    expect(await checkpointStatus(storage, 3)).toBe('FAILED');
    expect(await checkpointStatus(storage, 5)).toBe('IN_PROGRESS');
    expect(await checkpointStatus(storage, 6)).toBe('UNKNOWN');
    // chk-07 is not checkpoint 7.
    expect(await checkpointStatus(storage, 7)).toBe('UNKNOWN');
  });

  it('calls a checkpoint COMPLETED from the existence of _metadata alone, without reading it', async () => {
    const storage = new MemoryStorage();
    storage.seed('chk-9/_metadata', 'garbage');
    expect(await checkpointStatus(storage, 9)).toBe('COMPLETED');
    expect(storage.calls.some((c) => c.startsWith('get'))).toBe(false);
  });

  it('prefers COMPLETED over FAILED when both files exist', async () => {
    const storage = new MemoryStorage();
    storage.seed('chk-2/_FAILED', '{}');
    storage.seed('chk-2/_metadata', encodeMetadata(makeMetadata(2)));
    expect(await checkpointStatus(storage, 2)).toBe('COMPLETED');
    expect(await listCheckpoints(storage)).toEqual([{ id: 2, status: 'COMPLETED' }]);
  });

  it('does not mix up chk-1 and chk-10', async () => {
    const storage = new MemoryStorage();
    storage.seed('chk-10/channel-0', 'x');
    expect(await checkpointStatus(storage, 1)).toBe('UNKNOWN');
    expect(await checkpointStatus(storage, 10)).toBe('IN_PROGRESS');
  });
});

describe('listCheckpoints and latestCompleted', () => {
  it('lists every checkpoint with its status, sorted by number, from one listing', async () => {
    const storage = mixed();
    storage.seed('chk-12/_metadata', encodeMetadata(makeMetadata(12)));
    storage.calls.length = 0;
    expect(await listCheckpoints(storage)).toEqual([
      { id: 1, status: 'COMPLETED' },
      { id: 2, status: 'COMPLETED' },
      { id: 3, status: 'FAILED' },
      { id: 4, status: 'COMPLETED' },
      { id: 5, status: 'IN_PROGRESS' },
      { id: 12, status: 'COMPLETED' },
    ]);
    expect(storage.calls).toEqual(['list ']);
  });

  it('latestCompleted skips newer failed and in-progress checkpoints', async () => {
    expect(await latestCompleted(mixed())).toBe(4);
    expect(await latestCompleted(new MemoryStorage())).toBeUndefined();
  });
});

describe('readMetadata', () => {
  it('decodes the metadata of a completed checkpoint', async () => {
    expect(await readMetadata(mixed(), 4)).toEqual(makeMetadata(4));
  });

  it('throws CheckpointNotFoundError naming the job dir, number and status found instead', async () => {
    const storage = mixed();
    for (const [n, status] of [[3, 'FAILED'], [5, 'IN_PROGRESS'], [6, 'UNKNOWN']] as const) {
      const error = await readMetadata(storage, n).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointNotFoundError);
      expect(error).toMatchObject({ jobDir: storage.uri, checkpointId: n, status });
      expect((error as Error).message).toContain(`checkpoint ${n} not found in ${storage.uri}`);
    }
  });

  it('throws CorruptMetadataError for a bad file, and for metadata of another checkpoint', async () => {
    const storage = new MemoryStorage();
    storage.seed('chk-2/_metadata', 'garbage-garbage-garbage');
    storage.seed('chk-3/_metadata', encodeMetadata(makeMetadata(8)));
    await expect(readMetadata(storage, 2)).rejects.toMatchObject({ name: 'CorruptMetadataError', key: 'chk-2/_metadata', reason: 'magic', jobDir: storage.uri });
    const error = await readMetadata(storage, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMetadataError);
    expect((error as CorruptMetadataError).detail).toBe('checkpointId is 8, expected 3');
  });

  it('lets a storage failure through instead of calling the checkpoint missing', async () => {
    const storage = mixed();
    storage.failOn('get', /^chk-4\//, () => new Error('connection reset'));
    await expect(readMetadata(storage, 4)).rejects.toThrow('connection reset');
  });
});

describe('findLatestRestorable', () => {
  it('returns the newest completed checkpoint that decodes', async () => {
    const found = await findLatestRestorable(mixed());
    expect(found.latest?.id).toBe(4);
    expect(found.latest?.metadata).toEqual(makeMetadata(4));
    expect(found.skipped).toEqual([]);
  });

  it('skips corrupt newer checkpoints and reports them, newest first', async () => {
    const storage = mixed();
    const truncated = encodeMetadata(makeMetadata(6));
    storage.seed('chk-6/_metadata', truncated.subarray(0, truncated.length - 3));
    const flipped = encodeMetadata(makeMetadata(7));
    flipped[flipped.length - 1] ^= 0xff;
    storage.seed('chk-7/_metadata', flipped);
    const found = await findLatestRestorable(storage);
    expect(found.latest?.id).toBe(4);
    expect(found.skipped.map((s) => [s.id, (s.error as CorruptMetadataError).reason])).toEqual([
      [7, 'checksum'],
      [6, 'truncated'],
    ]);
  });

  it('finds nothing when no completed checkpoint decodes', async () => {
    const storage = new MemoryStorage();
    storage.seed('chk-1/_metadata', 'bad');
    storage.seed('chk-2/_FAILED', '{}');
    const found = await findLatestRestorable(storage);
    expect(found.latest).toBeUndefined();
    expect(found.skipped.map((s) => s.id)).toEqual([1]);
  });

  it('fails on a storage error rather than silently restoring an older checkpoint', async () => {
    const storage = mixed();
    storage.failOn('get', /^chk-4\//, () => new Error('throttled'));
    await expect(findLatestRestorable(storage)).rejects.toThrow('throttled');
  });
});

describe("findLatestRestorable without fallback ('latest')", () => {
  it('throws a corrupt newest checkpoint, naming it, instead of restoring an older one', async () => {
    const storage = mixed();
    const flipped = encodeMetadata(makeMetadata(6));
    flipped[flipped.length - 1] ^= 0xff;
    storage.seed('chk-6/_metadata', flipped);
    const error = await findLatestRestorable(storage, { fallback: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMetadataError);
    expect(error).toMatchObject({ checkpointId: 6, key: 'chk-6/_metadata', reason: 'checksum', code: 'BATON_ERR_CORRUPT_METADATA' });
  });

  it('reads a bad newest _metadata twice: a short read of an object still being written is not damage', async () => {
    const storage = mixed();
    const full = encodeMetadata(makeMetadata(6));
    storage.seed('chk-6/_metadata', full);
    // The first get serves half the object, as s3rver can while it is being written.
    const get = storage.get.bind(storage);
    let reads = 0;
    storage.get = async (key: string) => {
      const bytes = await get(key);
      return key === 'chk-6/_metadata' && reads++ === 0 ? bytes.subarray(0, bytes.length >> 1) : bytes;
    };
    const found = await findLatestRestorable(storage, { fallback: false });
    expect(found.latest?.id).toBe(6);
    expect(reads).toBe(2);
  });

  it('passes over (and reports) a newest checkpoint whose _metadata vanished: it was marked FAILED', async () => {
    const storage = mixed();
    completed(storage, 6);
    const get = storage.get.bind(storage);
    storage.get = async (key: string) => {
      if (key === 'chk-6/_metadata') storage.objects.delete(key);
      return get(key);
    };
    const found = await findLatestRestorable(storage, { fallback: false });
    expect(found.latest?.id).toBe(4);
    expect(found.skipped.map((s) => [s.id, s.error.name])).toEqual([[6, 'CheckpointNotFoundError']]);
  });

  it('runs the job check on the candidate: a failing check is thrown, or with fallback passed over', async () => {
    const check = (meta: { checkpointId: number }) => {
      if (meta.checkpointId === 4) throw new HostileCheckpointError('chk-4/_metadata', 4, 'operators[0].subtasks[0].state', '../x', 'a safe name');
    };
    await expect(findLatestRestorable(mixed(), { fallback: false, check })).rejects.toBeInstanceOf(HostileCheckpointError);
    const found = await findLatestRestorable(mixed(), { check });
    expect(found.latest?.id).toBe(2);
    expect(found.skipped.map((s) => s.id)).toEqual([4]);
  });
});

describe('verified status (CLI list and status)', () => {
  it('calls a COMPLETED checkpoint whose _metadata fails its checks CORRUPT', async () => {
    const storage = mixed();
    storage.seed('chk-6/_metadata', 'garbage');
    const truncated = encodeMetadata(makeMetadata(7));
    storage.seed('chk-7/_metadata', truncated.subarray(0, 20));
    const flipped = encodeMetadata(makeMetadata(8));
    flipped[30] ^= 0x10;
    storage.seed('chk-8/_metadata', flipped);
    for (const n of [6, 7, 8]) {
      expect(await checkpointStatus(storage, n, { verify: true }), `chk-${n}`).toBe('CORRUPT');
      expect(await checkpointStatus(storage, n), `chk-${n}`).toBe('COMPLETED');
    }
    expect(await checkpointStatus(storage, 4, { verify: true })).toBe('COMPLETED');
    expect(await checkpointStatus(storage, 3, { verify: true })).toBe('FAILED');
    const listed = await listCheckpoints(storage, { verify: true });
    expect(listed.map((e) => `${e.id} ${e.status}`)).toEqual(['1 COMPLETED', '2 COMPLETED', '3 FAILED', '4 COMPLETED', '5 IN_PROGRESS', '6 CORRUPT', '7 CORRUPT', '8 CORRUPT']);
  });
});

describe('failed markers', () => {
  it('writes the reason as JSON, turning the checkpoint FAILED', async () => {
    const storage = mixed();
    await writeFailedMarker(storage, 5, 'declined by 0/1: "disk full"');
    expect(await checkpointStatus(storage, 5)).toBe('FAILED');
    expect(JSON.parse(new TextDecoder().decode(storage.objects.get('chk-5/_FAILED')))).toEqual({ checkpointId: 5, reason: 'declined by 0/1: "disk full"' });
    expect(await readFailedReason(storage, 5)).toBe('declined by 0/1: "disk full"');
    expect(await readFailedReason(storage, 4)).toBeUndefined();
  });

  it('removes a _metadata that landed although its write was reported failed', async () => {
    const storage = new MemoryStorage();
    completed(storage, 8);
    await writeFailedMarker(storage, 8, 'metadata write failed: timeout');
    expect(storage.calls).toEqual(['delete chk-8/_metadata', 'put chk-8/_FAILED']);
    expect(await checkpointStatus(storage, 8)).toBe('FAILED');
  });

  it('does not write the marker if the stale metadata cannot be removed', async () => {
    const storage = new MemoryStorage();
    completed(storage, 8);
    storage.failOn('delete', /_metadata$/);
    await expect(writeFailedMarker(storage, 8, 'x')).rejects.toThrow('injected delete failure');
    expect(storage.objects.has('chk-8/_FAILED')).toBe(false);
  });

  it('shows a marker that is not JSON as raw text', async () => {
    const storage = new MemoryStorage();
    storage.seed('chk-1/_FAILED', 'killed');
    expect(await readFailedReason(storage, 1)).toBe('killed');
  });
});
