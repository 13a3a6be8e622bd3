// InFlightSpillLog: input batches persisted as they arrive, located by arrival number, pruned once no checkpoint can need them.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { frameBody, SPILL_SEGMENT_MAGIC } from '../../../src/checkpoint/checked-frame.ts';
import { CorruptCheckpointError } from '../../../src/checkpoint/errors.ts';
import { BatchEncoder } from '../../../src/runtime/channels/batch-codec.ts';
import { decodeSpillSegment, InFlightSpillLog } from '../../../src/runtime/worker/in-flight-spill-log.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';

const settings = { segmentBytes: 64, flushMs: 60_000 };
const spillKeys = (storage: MemoryStorage) => [...storage.objects.keys()].filter((k) => k.startsWith('shared/spill-')).sort();

describe('InFlightSpillLog', () => {
  it('writes a segment once it is full, and a flush writes the open one; both decode to the batches', async () => {
    const storage = new MemoryStorage();
    const log = new InFlightSpillLog(storage, 'sum-0', settings);
    const wire = new BatchEncoder().encode({ values: [{ word: 'x', n: 1 }], timestamps: [5] }).wire;
    log.append(0, 0, undefined, wire);
    log.append(1, 1, { values: [new Map([['k', 1n]]), 'a'.repeat(80)], timestamps: null }, undefined);
    log.append(1, 2, { values: null, timestamps: null, watermark: 3 }, undefined); // no records: not logged
    log.append(0, 3, { values: [7], timestamps: [9] }, undefined);
    expect(spillKeys(storage)).toHaveLength(1); // the full segment went out at once, the open one waits
    await log.flush();
    const keys = spillKeys(storage);
    expect(keys).toHaveLength(2); // the 80-byte record filled the first segment
    expect(log.locate(0)).toEqual({ segment: log.locate(1)!.segment, index: 0 });
    expect(log.locate(3)).toEqual({ segment: expect.not.stringMatching(log.locate(0)!.segment), index: 0 });
    expect(log.locate(2)).toBeUndefined();
    const batches = new Map(keys.map((k) => [k.slice('shared/'.length), decodeSpillSegment(storage.objects.get(k)!, k)]));
    const at = (seq: number) => {
      const ref = log.locate(seq)!;
      return batches.get(ref.segment)![ref.index];
    };
    expect(at(0)).toEqual({ values: [{ word: 'x', n: 1 }], timestamps: [5] });
    expect(at(1)).toEqual({ values: [new Map([['k', 1n]]), 'a'.repeat(80)], timestamps: null });
    expect(at(3)).toEqual({ values: [7], timestamps: [9] });
    expect(log.takeWrittenBytes()).toBeGreaterThan(80);
    expect(log.takeWrittenBytes()).toBe(0);
  });

  it('decodes port bytes the way the channel does: a bigint beyond 64 bits stays a bigint', async () => {
    const storage = new MemoryStorage();
    const log = new InFlightSpillLog(storage, 'sum-0', settings);
    const values = [{ id: 2n ** 100n, small: -3n }];
    log.append(0, 0, undefined, new BatchEncoder().encode({ values, timestamps: null }).wire);
    await log.flush();
    const [key] = spillKeys(storage);
    expect(decodeSpillSegment(storage.objects.get(key)!, key)[0]).toEqual({ values, timestamps: null });
  });

  it('deletes segments no checkpoint referred to once they are below the floor, keeps referenced and held ones', async () => {
    const storage = new MemoryStorage();
    const log = new InFlightSpillLog(storage, 'sum-0', { segmentBytes: 1, flushMs: 60_000 }); // one batch per segment
    for (let seq = 0; seq < 4; seq++) log.append(0, seq, { values: [seq], timestamps: null }, undefined);
    await log.flush();
    const segment = (seq: number) => `shared/${log.locate(seq)!.segment}`;
    const [s0, s1, s2, s3] = [0, 1, 2, 3].map(segment);
    log.markReferenced([log.locate(1)!.segment]); // checkpoint 1 refers to batch 1
    log.hold(2, 0); // checkpoint 2 (in progress) may refer to anything from 0 on
    await log.release(1, 3);
    expect(spillKeys(storage)).toEqual([s0, s1, s2, s3].sort()); // held by checkpoint 2
    await log.release(2, 3);
    expect(spillKeys(storage)).toEqual([s1, s3].sort()); // 0 and 2 were garbage; 1 belongs to retention now
    await log.close();
    expect(spillKeys(storage)).toEqual([s1]);
  });

  it('a segment that could not be written fails the checkpoints referring to it, not later ones', async () => {
    const storage = new MemoryStorage();
    const log = new InFlightSpillLog(storage, 'sum-0', { segmentBytes: 1, flushMs: 60_000 });
    storage.failOn('put', /spill-/);
    log.append(0, 0, { values: [1], timestamps: null }, undefined);
    await log.flush();
    expect(() => log.locate(0)).toThrow(/could not be written: injected put failure/);
    storage.clearFailures();
    log.append(0, 1, { values: [2], timestamps: null }, undefined);
    await log.flush();
    expect(log.locate(1)).toBeDefined();
  });

  it('rejects a segment of another format, naming it', () => {
    expect(() => decodeSpillSegment(new Uint8Array([0xc0]), 'spill-x')).toThrow(CorruptCheckpointError);
    expect(() => decodeSpillSegment(new Uint8Array([0xc0]), 'spill-x')).toThrow(/shared\/spill-x .*\(truncated\)/);
    expect(() => decodeSpillSegment(frameBody(SPILL_SEGMENT_MAGIC, new Packr().pack({ v: 2, entries: [] })), 'spill-x')).toThrow(/spill-x is not a version-1 spill segment/);
  });

  it('detects a bit flip or a cut in a stored segment by its checksum', async () => {
    const storage = new MemoryStorage();
    const log = new InFlightSpillLog(storage, 'op-0', { segmentBytes: 1, flushMs: 1_000 });
    log.append(0, 1, { values: ['a', 'b'], timestamps: null }, undefined);
    await log.flush();
    const [key] = [...storage.objects.keys()].filter((k) => k.startsWith('shared/'));
    const bytes = storage.objects.get(key)!;
    const id = key.slice('shared/'.length);
    expect(decodeSpillSegment(bytes, id)).toHaveLength(1);
    for (const at of [0, 5, 11, bytes.length - 1]) {
      const flipped = Uint8Array.from(bytes);
      flipped[at] ^= 0x04;
      expect(() => decodeSpillSegment(flipped, id), `offset ${at}`).toThrow(CorruptCheckpointError);
    }
    expect(() => decodeSpillSegment(bytes.subarray(0, bytes.length - 1), id)).toThrow(/truncated/);
  });
});
