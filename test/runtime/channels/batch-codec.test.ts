// BatchEncoder/BatchDecoder: round trips of records, timestamps, watermark/end-only messages; exclusive buffers.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { BatchDecoder, BatchEncoder } from '../../../src/runtime/channels/batch-codec.ts';
import type { ChannelMessage } from '../../../src/runtime/channels/types.ts';
import { MAX_WATERMARK, NO_TIMESTAMP } from '../../../src/runtime/types.ts';

function roundTrip(message: ChannelMessage, encoder = new BatchEncoder(), decoder = new BatchDecoder()): ChannelMessage {
  // structuredClone with transfer mimics postMessage: the receiver gets the bytes, the sender loses them.
  const { wire, transfer } = encoder.encode(message);
  return decoder.decode(structuredClone(wire, { transfer }));
}

describe('batch codec round trip', () => {
  it('carries numbers and strings', () => {
    const values = [0, -1, 1.5, 2 ** 40, Number.MAX_SAFE_INTEGER, 'a', '', 'ünï©ødé 🎉', true, null];
    const out = roundTrip({ values, timestamps: null });
    expect(out).toEqual({ values, timestamps: null, watermark: undefined, end: false });
  });

  it('carries nested objects, including many records of repeated shapes', () => {
    const values = Array.from({ length: 300 }, (_, i) => ({
      id: i,
      word: `w${i % 13}`,
      tags: [i % 2 === 0 ? 'even' : 'odd'],
      nested: { count: i * 2, inner: { flag: i % 3 === 0 } },
      ...(i % 5 === 0 ? { extra: 'x' } : {}),
    }));
    expect(roundTrip({ values, timestamps: null }).values).toEqual(values);
  });

  it('keeps each message self-contained so one decoder can serve many encoders in any order', () => {
    const a = new BatchEncoder();
    const b = new BatchEncoder();
    const decoder = new BatchDecoder();
    const a1 = a.encode({ values: [{ x: 1, y: 'a' }], timestamps: null });
    const b1 = b.encode({ values: [{ p: true, q: [1] }], timestamps: null });
    const a2 = a.encode({ values: [{ x: 2, y: 'b' }, { z: 0 }], timestamps: null });
    const b2 = b.encode({ values: [{ p: false, q: [] }], timestamps: null });
    expect(decoder.decode(a2.wire).values).toEqual([{ x: 2, y: 'b' }, { z: 0 }]);
    expect(decoder.decode(b1.wire).values).toEqual([{ p: true, q: [1] }]);
    expect(decoder.decode(b2.wire).values).toEqual([{ p: false, q: [] }]);
    expect(decoder.decode(a1.wire).values).toEqual([{ x: 1, y: 'a' }]);
  });

  it('carries timestamps from arrays and from Float64Array views', () => {
    const out = roundTrip({ values: ['a', 'b', 'c'], timestamps: [NO_TIMESTAMP, 0, -5.5] });
    expect(out.timestamps).toBeInstanceOf(Float64Array);
    expect(Array.from(out.timestamps!)).toEqual([NO_TIMESTAMP, 0, -5.5]);

    const backing = new Float64Array([9, 1, 2, 9]);
    const view = backing.subarray(1, 3);
    const fromView = roundTrip({ values: ['x', 'y'], timestamps: view });
    expect(Array.from(fromView.timestamps!)).toEqual([1, 2]);
    // The view's backing buffer was copied, not transferred.
    expect(backing.byteLength).toBe(32);
    expect(Array.from(backing)).toEqual([9, 1, 2, 9]);
  });

  it('carries watermark-only and end-only messages without payload buffers', () => {
    const encoder = new BatchEncoder();
    const wm = encoder.encode({ values: null, timestamps: null, watermark: 1234 });
    expect(wm.wire).toEqual({ w: 1234 });
    expect(wm.transfer).toEqual([]);
    expect(roundTrip({ values: null, timestamps: null, watermark: 1234 })).toEqual({ values: null, timestamps: null, watermark: 1234, end: false });
    expect(roundTrip({ values: null, timestamps: null, watermark: MAX_WATERMARK }).watermark).toBe(MAX_WATERMARK);

    const end = encoder.encode({ values: null, timestamps: null, end: true });
    expect(end.wire).toEqual({ e: 1 });
    expect(roundTrip({ values: null, timestamps: null, end: true })).toEqual({ values: null, timestamps: null, watermark: undefined, end: true });
  });

  it('treats an empty values array like no records', () => {
    expect(new BatchEncoder().encode({ values: [], timestamps: [], watermark: 3 }).wire).toEqual({ w: 3 });
  });

  it('carries records, watermark and end together', () => {
    expect(roundTrip({ values: [{ k: 'a' }], timestamps: [10], watermark: 9, end: true })).toEqual({
      values: [{ k: 'a' }],
      timestamps: new Float64Array([10]),
      watermark: 9,
      end: true,
    });
  });
});

describe('batch codec buffers', () => {
  it('encodes into a standalone ArrayBuffer of exactly the encoded size, listed for transfer', () => {
    const encoder = new BatchEncoder();
    const values = [{ a: 1 }, { a: 2 }];
    const { wire, transfer } = encoder.encode({ values, timestamps: [1, 2] });
    expect(wire.b).toBeInstanceOf(ArrayBuffer);
    // Not msgpackr's shared pool (kilobytes): just this message's bytes.
    expect(wire.b!.byteLength).toBe(new Packr({ useRecords: true, moreTypes: false }).pack(values).length);
    expect(transfer).toContain(wire.b);
    expect(transfer).toContain(wire.t);
    expect(wire.t!.byteLength).toBe(16);
    // The buffer holds nothing but this message: its bytes decode on their own.
    expect(new BatchDecoder().decode({ b: wire.b }).values).toEqual([{ a: 1 }, { a: 2 }]);
    const small = encoder.encode({ values: [1], timestamps: null }).wire.b!;
    expect(small.byteLength).toBeLessThan(16);
  });

  it('leaves the encoder usable after its output buffers are transferred', () => {
    const encoder = new BatchEncoder();
    const decoder = new BatchDecoder();
    const first = encoder.encode({ values: ['one', { n: 1 }], timestamps: [1, 2] });
    const firstSize = first.wire.b!.byteLength;
    const moved = structuredClone(first.wire, { transfer: first.transfer });
    expect(first.wire.b!.byteLength).toBe(0); // detached
    expect(moved.b!.byteLength).toBe(firstSize);
    const second = encoder.encode({ values: ['two', { n: 2 }], timestamps: [3, 4] });
    expect(decoder.decode(moved).values).toEqual(['one', { n: 1 }]);
    expect(decoder.decode(second.wire).values).toEqual(['two', { n: 2 }]);
    expect(second.wire.b).not.toBe(first.wire.b);
  });

  it('does not detach the caller-visible timestamps when they are a view over a larger buffer', () => {
    const backing = new Float64Array(4);
    const { transfer } = new BatchEncoder().encode({ values: [1, 2], timestamps: backing.subarray(0, 2) });
    structuredClone(transfer, { transfer });
    expect(backing.byteLength).toBe(32);
  });
});

describe('batch codec barriers', () => {
  it('carries an aligned barrier with its checkpoint trigger time', () => {
    expect(roundTrip({ values: [1], timestamps: null, barrier: 4, barrierAt: 1_700_000_000_123 })).toEqual({
      values: [1],
      timestamps: null,
      watermark: undefined,
      end: false,
      barrier: 4,
      barrierAt: 1_700_000_000_123,
    });
  });

  it('carries a priority barrier with its trigger time', () => {
    const out = roundTrip({ values: null, timestamps: null, barrier: 2, barrierAt: 99, priority: true });
    expect(out).toMatchObject({ barrier: 2, barrierAt: 99, priority: true });
  });

  it('leaves barrierAt out when a barrier has none', () => {
    expect('barrierAt' in roundTrip({ values: null, timestamps: null, barrier: 2 })).toBe(false);
  });

  it('carries bigints of any size as bigints (within 64 bits and beyond)', () => {
    const values = [0n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, -(2n ** 200n), { big: 12345678901234567890123n }];
    expect(roundTrip({ values, timestamps: null }).values).toEqual(values);
  });
});
