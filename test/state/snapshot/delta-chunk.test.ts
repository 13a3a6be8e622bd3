// Delta chunk codec: round trips, input validation and every kind of corruption.
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_BYTES,
  compareBytes,
  type DeltaChunk,
  decodeChunk,
  encodeChunk,
} from '../../../src/state/snapshot/delta-chunk.ts';
import { ChunkCorruptError } from '../../../src/state/snapshot/errors.ts';

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

function normalize(chunk: DeltaChunk): unknown {
  return {
    kind: chunk.kind,
    range: chunk.range,
    entries: chunk.entries.map(([k, v]) => [Array.from(k), v === null ? null : Array.from(v)]),
  };
}

function sample(): DeltaChunk {
  return {
    kind: 'delta',
    range: { start: 32, end: 63 },
    entries: [
      [b(0, 32, 0, 1, 5), b(1, 2, 3)],
      [b(0, 32, 0, 1, 6), null],
      [b(0, 40, 0, 2, 7, 97, 0, 0), new Uint8Array(0)],
      [b(0, 63, 0, 2), new Uint8Array(300).fill(7)], // value length needs a 2-byte varint
      [b(0xff, 0xff, 120), b(0, 1, 1)],
    ],
  };
}

/** Rewrites the payload checksum so that only the structural checks can catch a change. */
function withValidCrc(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  new DataView(out.buffer).setUint32(12, crc32(out.subarray(CHUNK_HEADER_BYTES)));
  return out;
}

function corruption(fn: () => unknown): ChunkCorruptError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ChunkCorruptError) return e;
    throw e;
  }
  throw new Error('expected a ChunkCorruptError');
}

describe('delta chunk codec', () => {
  it('round-trips deltas, bases and empty chunks', () => {
    const delta = sample();
    expect(normalize(decodeChunk(encodeChunk(delta), 'd'))).toEqual(normalize(delta));
    const base: DeltaChunk = { ...delta, kind: 'base', entries: delta.entries.filter(([, v]) => v !== null) };
    expect(normalize(decodeChunk(encodeChunk(base), 'b'))).toEqual(normalize(base));
    const empty: DeltaChunk = { kind: 'base', range: { start: 5, end: 4 }, entries: [] };
    expect(normalize(decodeChunk(encodeChunk(empty), 'e'))).toEqual(normalize(empty));
    expect(encodeChunk(empty).length).toBe(CHUNK_HEADER_BYTES + 8);
  });

  it('starts with the BTNS magic, version 1, the entry count and the payload CRC32', () => {
    const bytes = encodeChunk(sample());
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('BTNS');
    expect(view.getUint16(4)).toBe(1);
    expect(view.getUint16(6)).toBe(1); // delta flag
    expect(view.getUint32(8)).toBe(5);
    expect(view.getUint32(12)).toBe(crc32(bytes.subarray(CHUNK_HEADER_BYTES)));
  });

  it('round-trips many random entries', () => {
    let seed = 1;
    const random = () => {
      // 32-bit LCG with Math.imul: plain multiplication would lose bits beyond 2^53 and cycle early.
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const keys = new Map<string, Uint8Array>();
    while (keys.size < 2000) {
      const key = Uint8Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      keys.set(Buffer.from(key).toString('hex'), key);
    }
    const entries: DeltaChunk['entries'] = [...keys.values()]
      .sort(compareBytes)
      .map((k) => [k, random() < 0.2 ? null : Uint8Array.from({ length: Math.floor(random() * 200) }, () => 1)]);
    const chunk: DeltaChunk = { kind: 'delta', range: { start: 0, end: 32767 }, entries };
    expect(normalize(decodeChunk(encodeChunk(chunk), 'r'))).toEqual(normalize(chunk));
  });

  it('decoded entries are views into the input, and decode accepts a Uint8Array at an offset', () => {
    const bytes = encodeChunk(sample());
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 10);
    const chunk = decodeChunk(padded.subarray(10), 'x');
    expect(chunk.entries[0][0].buffer).toBe(padded.buffer);
    expect(normalize(chunk)).toEqual(normalize(sample()));
  });

  it('refuses unsorted or duplicate entries and tombstones in a base', () => {
    const unsorted: DeltaChunk = { kind: 'delta', range: { start: 0, end: 1 }, entries: [[b(2), null], [b(1), null]] };
    expect(() => encodeChunk(unsorted)).toThrow(/sorted/);
    const dup: DeltaChunk = { kind: 'delta', range: { start: 0, end: 1 }, entries: [[b(1), null], [b(1), b(2)]] };
    expect(() => encodeChunk(dup)).toThrow(/unique/);
    // A shorter key sorts first on a common prefix, as in LMDB.
    const prefix: DeltaChunk = { kind: 'delta', range: { start: 0, end: 1 }, entries: [[b(1, 2), null], [b(1), null]] };
    expect(() => encodeChunk(prefix)).toThrow(/sorted/);
    const base: DeltaChunk = { kind: 'base', range: { start: 0, end: 1 }, entries: [[b(1), null]] };
    expect(() => encodeChunk(base)).toThrow(/tombstone/);
  });

  describe('corruption', () => {
    const good = encodeChunk(sample());

    it('bad magic', () => {
      const bytes = Uint8Array.from(good);
      bytes[0] = 0x58;
      const e = corruption(() => decodeChunk(bytes, 'shared/abc'));
      expect(e.chunk).toBe('shared/abc');
      expect(e.reason).toMatch(/magic/);
      expect(e.message).toMatch(/shared\/abc.*magic/);
      expect(e).toBeInstanceOf(Error);
    });

    it('unknown version and flags', () => {
      const v2 = Uint8Array.from(good);
      v2[5] = 2;
      expect(corruption(() => decodeChunk(v2, 'v')).reason).toMatch(/version 2/);
      const flags = Uint8Array.from(good);
      flags[6] = 0x80;
      expect(corruption(() => decodeChunk(flags, 'f')).reason).toMatch(/flags/);
    });

    it('checksum mismatch on any flipped payload bit', () => {
      for (const pos of [CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + 9, good.length - 1]) {
        const bytes = Uint8Array.from(good);
        bytes[pos] ^= 0x10;
        expect(corruption(() => decodeChunk(bytes, 'c')).reason).toMatch(/checksum/);
      }
      const header = Uint8Array.from(good);
      header[12] ^= 1;
      expect(corruption(() => decodeChunk(header, 'c')).reason).toMatch(/checksum/);
    });

    it('truncation at every length', () => {
      for (let n = 0; n < good.length; n++) {
        expect(() => decodeChunk(good.subarray(0, n), 't')).toThrow(ChunkCorruptError);
        // Even with a checksum that matches what is left.
        if (n >= CHUNK_HEADER_BYTES + 8) expect(() => decodeChunk(withValidCrc(good.subarray(0, n)), 't')).toThrow(ChunkCorruptError);
      }
    });

    it('trailing bytes, an inflated entry count and a tombstone in a base, each with a valid checksum', () => {
      const trailing = new Uint8Array(good.length + 3);
      trailing.set(good);
      expect(corruption(() => decodeChunk(withValidCrc(trailing), 'x')).reason).toMatch(/trailing/);
      const count = Uint8Array.from(good);
      new DataView(count.buffer).setUint32(8, 6);
      expect(corruption(() => decodeChunk(withValidCrc(count), 'x')).reason).toMatch(/truncated/);
      const huge = Uint8Array.from(good);
      new DataView(huge.buffer).setUint32(8, 0xffffffff);
      expect(corruption(() => decodeChunk(withValidCrc(huge), 'x')).reason).toMatch(/count/);
      const base = Uint8Array.from(good);
      base[7] = 0; // claim base: the tombstone of entry 1 is now illegal
      expect(corruption(() => decodeChunk(withValidCrc(base), 'x')).reason).toMatch(/tombstone/);
    });
  });
});
