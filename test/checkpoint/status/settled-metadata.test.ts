// A `_metadata` read while it is still being written: read again with backoff; only damage that stays is corruption.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointNotFoundError, CorruptMetadataError } from '../../../src/checkpoint/errors.ts';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { readMetadataSettled, settle } from '../../../src/checkpoint/status/settled-metadata.ts';
import { S3Storage } from '../../../src/checkpoint/storage/s3-storage.ts';
import { type S3rverHandle, startS3rver } from '../../support/s3rver.ts';
import { MemoryStorage } from '../memory-storage.ts';
import { makeMetadata } from '../metadata/fixtures.ts';

const full = encodeMetadata(makeMetadata(73));

/** Memory storage whose `_metadata` of 73 reads as the first `prefixes[i]` bytes on read i, then whole. */
function growing(prefixes: number[]): { storage: MemoryStorage; reads: () => number } {
  const storage = new MemoryStorage();
  storage.seed('chk-73/_metadata', full);
  let reads = 0;
  const get = storage.get.bind(storage);
  storage.get = async (key: string) => {
    const data = await get(key);
    if (key !== 'chk-73/_metadata') return data;
    const cut = prefixes[reads++];
    return cut === undefined ? data : data.slice(0, cut);
  };
  return { storage, reads: () => reads };
}

const noWait = { sleep: async () => undefined };

describe('readMetadataSettled', () => {
  it('reads a `_metadata` that is still growing again until it is whole (0 bytes, then a prefix)', async () => {
    // readMetadata already reads twice; 0 bytes twice, then 10 bytes twice, then whole.
    const { storage, reads } = growing([0, 0, 10, 10]);
    const waits: number[] = [];
    const meta = await readMetadataSettled(storage, 73, { sleep: async (ms) => waits.push(ms) });
    expect(meta.checkpointId).toBe(73);
    expect(reads()).toBe(5);
    expect(waits).toEqual([10, 20]);
  });

  it('throws what stays short after every attempt: persisting damage is corruption', async () => {
    const { storage, reads } = growing(Array(100).fill(0));
    const error = await readMetadataSettled(storage, 73, { attempts: 4, ...noWait }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMetadataError);
    expect((error as CorruptMetadataError).reason).toBe('truncated');
    expect(reads()).toBe(8);
  });

  it('a checksum failure is damage at once (a prefix never fails the checksum), a missing one is not found', async () => {
    const storage = new MemoryStorage();
    const bad = full.slice();
    bad[bad.length - 1] ^= 0xff;
    storage.seed('chk-73/_metadata', bad);
    let slept = 0;
    const error = await readMetadataSettled(storage, 73, { sleep: async () => slept++ }).catch((e: unknown) => e);
    expect((error as CorruptMetadataError).reason).toBe('checksum');
    expect(slept).toBe(0);
    await expect(readMetadataSettled(new MemoryStorage(), 73, noWait)).rejects.toBeInstanceOf(CheckpointNotFoundError);
  });

  it('settle gives up on other errors at once', async () => {
    let calls = 0;
    await expect(
      settle(async () => {
        calls++;
        throw new Error('storage down');
      }, noWait),
    ).rejects.toThrow('storage down');
    expect(calls).toBe(1);
  });
});

describe('readMetadataSettled on s3rver', { timeout: 30_000 }, () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(() => s3?.close());

  it('a `_metadata` that is still 0 bytes on the server (written in pieces) is read again until it is whole', async () => {
    const storage = new S3Storage(`s3://${s3.bucket}/settle`, { endpoint: s3.endpoint, credentials: s3.credentials, region: s3.region });
    try {
      // What s3rver serves while a PUT is still streaming in: the object exists, empty.
      await storage.put('chk-73/_metadata', new Uint8Array(0));
      let waits = 0;
      const meta = await readMetadataSettled(storage, 73, {
        // The writer finishes during the reader's second wait.
        sleep: async () => {
          if (++waits === 2) await storage.put('chk-73/_metadata', full);
        },
      });
      expect(meta.checkpointId).toBe(73);
      expect(waits).toBe(2);
      // Still empty after every attempt: corruption, as before.
      await storage.put('chk-73/_metadata', new Uint8Array(0));
      await expect(readMetadataSettled(storage, 73, { attempts: 2, ...noWait })).rejects.toMatchObject({ reason: 'truncated' });
    } finally {
      await storage.close();
    }
  });
});
