// The _metadata format: round trip, every kind of corruption named with its reason, Flink detection.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CorruptCheckpointError, HostileCheckpointError } from '../../../src/checkpoint/errors.ts';
import { crc32 } from '../../../src/checkpoint/metadata/crc32.ts';
import {
  METADATA_HEADER_BYTES,
  METADATA_MAGIC,
  METADATA_MSGPACK_OPTIONS,
  decodeMetadata,
  encodeMetadata,
  isFlinkMetadata,
} from '../../../src/checkpoint/metadata/metadata-codec.ts';
import type { CheckpointMetadata } from '../../../src/checkpoint/types.ts';
import { chain, chunk, makeMetadata } from './fixtures.ts';

const KEY = 'chk-7/_metadata';
const packr = new Packr(METADATA_MSGPACK_OPTIONS);
const pack = (value: unknown) => packr.pack(value).slice();

/** A file with a hand-made header around `body`; defaults make a valid one. */
function frame(body: Uint8Array, header: { magic?: number; version?: number; flags?: number; length?: number; crc?: number } = {}): Uint8Array {
  const out = new Uint8Array(METADATA_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.magic ?? METADATA_MAGIC);
  view.setUint16(4, header.version ?? 1);
  view.setUint16(6, header.flags ?? 0);
  view.setUint32(8, header.length ?? body.length);
  view.setUint32(12, header.crc ?? crc32(body));
  out.set(body, METADATA_HEADER_BYTES);
  return out;
}

/** A correctly framed body holding `value` (as if a buggy or hostile writer produced it). */
const framed = (value: unknown) => frame(pack(value));

function corruption(bytes: Uint8Array, jobDir?: string): CorruptCheckpointError {
  try {
    decodeMetadata(bytes, KEY, jobDir);
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    return error as CorruptCheckpointError;
  }
  throw new Error('decodeMetadata accepted corrupt bytes');
}

function without<K extends keyof CheckpointMetadata>(meta: CheckpointMetadata, key: K): Omit<CheckpointMetadata, K> {
  const { [key]: _dropped, ...rest } = meta;
  return rest;
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('metadata codec', () => {
  it('round-trips metadata with chains, inline subtask state and exclusive files', () => {
    const meta = makeMetadata(7, [chain(0, 63, 'b-1', 'd-2', 'd-3'), chain(64, 127, 'b-4')]);
    const bytes = encodeMetadata(meta);
    expect(decodeMetadata(bytes, KEY)).toEqual(meta);
  });

  it('restores opaque operator state exactly: Map, Set, bigint, Date, undefined, bytes', () => {
    const state = {
      splits: new Map<unknown, unknown>([[1, 'a'], ['1', { offset: 2 ** 40 }]]),
      seen: new Set(['x', 'y']),
      timers: [[12345678901234567890n, 5, 'event-time'], [7, 6, 'processing-time']],
      huge: 2n ** 100n,
      at: new Date(1_700_000_000_000),
      missing: undefined,
      bytes: new Uint8Array([0, 1, 255]),
      float: 0.1,
    };
    const meta = makeMetadata(7, undefined, { operators: [{ uid: 'op', parallelism: 1, keyed: [], subtasks: [{ subtaskIndex: 0, state }] }] });
    const back = decodeMetadata(encodeMetadata(meta), KEY).operators[0].subtasks[0].state as typeof state;
    expect(back.splits).toBeInstanceOf(Map);
    expect([...back.splits]).toEqual([[1, 'a'], ['1', { offset: 2 ** 40 }]]);
    expect(back.seen).toEqual(new Set(['x', 'y']));
    expect(back.timers).toEqual(state.timers);
    expect(typeof back.timers[0][0]).toBe('bigint');
    expect(back.huge).toBe(2n ** 100n);
    expect(back.at).toEqual(state.at);
    expect('missing' in back && back.missing === undefined).toBe(true);
    expect([...back.bytes]).toEqual([0, 1, 255]);
    expect(back.float).toBe(0.1);
  });

  it('writes the documented header: BTNC, version 1, no flags, body length, CRC of the body', () => {
    const bytes = encodeMetadata(makeMetadata(3));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('BTNC');
    expect(view.getUint16(4)).toBe(1);
    expect(view.getUint16(6)).toBe(0);
    expect(view.getUint32(8)).toBe(bytes.length - METADATA_HEADER_BYTES);
    expect(view.getUint32(12)).toBe(crc32(bytes.subarray(METADATA_HEADER_BYTES)));
  });

  it('returns bytes of its own: a later encode does not overwrite an earlier result', () => {
    const first = encodeMetadata(makeMetadata(1));
    const copy = first.slice();
    encodeMetadata(makeMetadata(2, [chain(0, 127, 'x'.repeat(200))]));
    expect(first).toEqual(copy);
    expect(decodeMetadata(first, KEY).checkpointId).toBe(1);
  });

  it('decodes from a view into a larger buffer', () => {
    const bytes = encodeMetadata(makeMetadata(5));
    const padded = new Uint8Array(bytes.length + 20);
    padded.set(bytes, 10);
    expect(decodeMetadata(padded.subarray(10, 10 + bytes.length), KEY).checkpointId).toBe(5);
  });

  it('refuses to encode metadata that could not be decoded', () => {
    const bad = makeMetadata(4, [chain(0, 127, '../escape')]);
    expect(() => encodeMetadata(bad)).toThrow(TypeError);
    expect(() => encodeMetadata(bad)).toThrow(/operators\[1\]\.keyed\[0\]\.chain\[0\]\.id/);
  });

  describe('corruption', () => {
    const good = () => encodeMetadata(makeMetadata(7));

    it('a flipped body byte is a checksum error', () => {
      const bytes = good();
      bytes[METADATA_HEADER_BYTES + 5] ^= 0x01;
      const error = corruption(bytes);
      expect(error.reason).toBe('checksum');
      expect(error.key).toBe(KEY);
    });

    it('a flipped CRC byte is a checksum error too', () => {
      const bytes = good();
      bytes[15] ^= 0x80;
      expect(corruption(bytes).reason).toBe('checksum');
    });

    it('a wrong magic number is a magic error', () => {
      const bytes = good();
      bytes[0] = 0x00;
      const error = corruption(bytes);
      expect(error.reason).toBe('magic');
      expect(error.detail).toMatch(/expected 0x42544e43/);
    });

    it('a newer format version is a version error that says so', () => {
      const error = corruption(frame(pack(makeMetadata(7)), { version: 2 }));
      expect(error.reason).toBe('version');
      expect(error.message).toMatch(/version 2 was written by a newer baton/);
    });

    it('version 0 and unknown flags are version errors', () => {
      expect(corruption(frame(pack(makeMetadata(7)), { version: 0 })).reason).toBe('version');
      expect(corruption(frame(pack(makeMetadata(7)), { flags: 1 })).reason).toBe('version');
    });

    it('a cut body, a cut header and an empty file are truncated', () => {
      const bytes = good();
      expect(corruption(bytes.subarray(0, bytes.length - 1)).reason).toBe('truncated');
      expect(corruption(bytes.subarray(0, 10)).reason).toBe('truncated');
      expect(corruption(bytes.subarray(0, 2)).reason).toBe('truncated');
      expect(corruption(new Uint8Array(0)).reason).toBe('truncated');
    });

    it('bytes after the announced body are a body error', () => {
      const bytes = good();
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      const error = corruption(longer);
      expect(error.reason).toBe('body');
      expect(error.detail).toMatch(/1 unexpected bytes/);
    });

    it('a body that is not MessagePack is a body error', () => {
      expect(corruption(frame(new Uint8Array([0xc1]))).reason).toBe('body');
    });

    it('a body missing a required field is a body error naming the field', () => {
      const error = corruption(framed(without(makeMetadata(7), 'completedAt')));
      expect(error.reason).toBe('body');
      expect(error.detail).toMatch(/^completedAt: expected a finite number, got nothing/);
    });

    it('a field of the wrong type is a body error', () => {
      expect(corruption(framed({ ...makeMetadata(7), checkpointId: '7' })).detail).toMatch(/^checkpointId:/);
      expect(corruption(framed({ ...makeMetadata(7), operators: {} })).detail).toMatch(/^operators:/);
      expect(corruption(framed([makeMetadata(7)])).detail).toMatch(/^metadata: expected an object/);
    });

    it("a chunk id with '..' or '/' is a hostile name, so it never becomes a path", () => {
      for (const id of ['..', '../../etc/passwd', 'a..b', 'shared/x', '/abs', '.hidden', '_metadata', 'x.tmp-1', '']) {
        const error = corruption(framed(makeMetadata(7, [chain(0, 127, 'b-1', id)])));
        expect(error, id).toBeInstanceOf(HostileCheckpointError);
        expect(error.reason, id).toBe('hostile');
        expect(error.code, id).toBe('BATON_ERR_HOSTILE_CHECKPOINT');
        expect(error.checkpointId, id).toBe(7);
        expect(error.field, id).toBe('operators[1].keyed[0].chain[1].id');
        expect(error.value, id).toBe(id);
        expect(error.detail, id).toMatch(/^operators\[1\]\.keyed\[0\]\.chain\[1\]\.id:/);
      }
    });

    it('an exclusive file name that could escape is a hostile name', () => {
      const error = corruption(framed({ ...makeMetadata(7), exclusiveFiles: ['ok', '../chk-6/_metadata'] }));
      expect(corruption(framed({ ...makeMetadata(7), exclusiveFiles: ['_metadata'] })).detail).toMatch(/^exclusiveFiles\[0\]/);
      expect(error).toBeInstanceOf(HostileCheckpointError);
      expect(error.field).toBe('exclusiveFiles[1]');
      expect(error.detail).toMatch(/^exclusiveFiles\[1\]/);
    });

    it('a chain with a base after a delta, a range beyond maxParallelism, a bad subtask index, or a repeated uid are body errors', () => {
      const midBase = makeMetadata(7, [{ range: { start: 0, end: 127 }, chain: [chunk('b', 'base'), chunk('c', 'base')] }]);
      expect(corruption(framed(midBase)).detail).toMatch(/chain\[1\]\.kind/);
      expect(corruption(framed(makeMetadata(7, [chain(0, 128, 'b')]))).detail).toMatch(/range\.end/);
      const base = makeMetadata(7);
      const badIndex = { ...base, operators: [{ ...base.operators[0], subtasks: [{ subtaskIndex: 2, state: 1 }] }] };
      expect(corruption(framed(badIndex)).detail).toMatch(/operators\[0\]\.subtasks\[0\]\.subtaskIndex/);
      const twice = { ...base, operators: [base.operators[1], base.operators[1]] };
      expect(corruption(framed(twice)).detail).toMatch(/operators\[1\]\.uid: expected a uid not used by another operator/);
    });

    it('accepts an empty key-group range (more subtasks than key groups)', () => {
      expect(decodeMetadata(framed(makeMetadata(7, [{ range: { start: 5, end: 4 }, chain: [] }])), KEY).operators[1].keyed[0].range).toEqual({ start: 5, end: 4 });
    });

    it('names the job directory and key in the message when given', () => {
      const bytes = good();
      bytes[0] = 0;
      expect(corruption(bytes, 'file:///data/cp/orders/').message).toContain('file:///data/cp/orders/chk-7/_metadata');
    });
  });

  describe('Flink metadata', () => {
    const flink = new Uint8Array([0x49, 0x60, 0x67, 0x2d, 0, 0, 0, 3, 1, 2, 3]);

    it('recognizes the Flink magic and nothing else', () => {
      expect(isFlinkMetadata(flink)).toBe(true);
      expect(isFlinkMetadata(encodeMetadata(makeMetadata(1)))).toBe(false);
      expect(isFlinkMetadata(flink.subarray(0, 3))).toBe(false);
      expect(isFlinkMetadata(new Uint8Array([0x2d, 0x67, 0x60, 0x49]))).toBe(false);
    });

    it('decoding a Flink file says it is Flink, as a magic error', () => {
      const error = corruption(flink);
      expect(error.reason).toBe('magic');
      expect(error.detail).toMatch(/Flink/);
    });
  });
});
