// LMDB key codec: round trips, the prefix property that map scans rely on, and ordering.
import { describe, expect, it } from 'vitest';
import {
  decodeKey,
  decodeStateKey,
  decodeStateTableRow,
  encodedKeyLength,
  encodeKey,
  encodeStateKey,
  encodeStateTableRow,
  isStateTableKey,
  prefixSuccessor,
} from '../../../src/state/lmdb/key-codec.ts';
import { compareBytes } from '../../../src/state/snapshot/delta-chunk.ts';
import type { KeyValue } from '../../../src/state/types.ts';

const SAMPLE_KEYS: KeyValue[] = [
  '',
  'a',
  'ab',
  'abc',
  'a\0',
  'a\0b',
  'a\x01',
  '\0',
  '\0\0',
  'é',
  'e\u0301',
  '日本',
  '\ud83d\ude00',
  '\ud800',
  '\udc00',
  '\ud800a',
  'x'.repeat(300),
  0,
  1,
  10,
  -1,
  1.5,
  -1e-300,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Infinity,
  -Infinity,
  Number.NaN,
  2 ** 53,
  0n,
  1n,
  10n,
  -1n,
  2n ** 100n,
  -(2n ** 100n),
  true,
  false,
];

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((x, i) => bytes[i] === x);
}

function same(a: KeyValue, b: KeyValue): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

describe('key codec', () => {
  it('round-trips every key type, and reports the encoded length', () => {
    for (const key of SAMPLE_KEYS) {
      const bytes = encodeKey(key);
      const decoded = decodeKey(bytes);
      expect(same(decoded, key), `round trip of ${JSON.stringify(String(key))}`).toBe(true);
      expect(typeof decoded).toBe(typeof key);
      expect(encodedKeyLength(bytes)).toBe(bytes.length);
    }
  });

  it('encodes -0 as 0 and every NaN alike, as a JS Map would key them', () => {
    expect(encodeKey(-0)).toEqual(encodeKey(0));
    const otherNaN = new Float64Array(new BigUint64Array([0x7ff0000000000001n]).buffer)[0];
    expect(Number.isNaN(otherNaN)).toBe(true);
    expect(encodeKey(otherNaN)).toEqual(encodeKey(Number.NaN));
  });

  it('never makes one encoded key a prefix of another (a vs ab, 1 vs 10, a vs a\\0)', () => {
    const encoded = SAMPLE_KEYS.map((k) => [k, encodeKey(k)] as const);
    for (const [a, ea] of encoded) {
      for (const [b, eb] of encoded) {
        if (same(a, b)) continue;
        expect(startsWith(eb, ea), `${String(a)} is a prefix of ${String(b)}`).toBe(false);
      }
    }
  });

  it('keeps keys of different types apart', () => {
    const distinct = new Set(SAMPLE_KEYS.map((k) => Buffer.from(encodeKey(k)).toString('hex')));
    expect(distinct.size).toBe(SAMPLE_KEYS.length);
    expect(encodeKey(1)).not.toEqual(encodeKey('1'));
    expect(encodeKey(1)).not.toEqual(encodeKey(1n));
    expect(encodeKey(true)).not.toEqual(encodeKey('true'));
  });

  it('all map keys of one user key share its prefix; other user keys never do', () => {
    const userKeys: KeyValue[] = ['a', 'ab', 1, 10, 1n, 10n, true, '', 'a\0'];
    const mapKeys: KeyValue[] = ['', 'x', 'xy', 0, -5, 99n, false, 'a', 'b'];
    for (const uk of userKeys) {
      const prefix = encodeStateKey(3, 1, uk);
      for (const mk of mapKeys) {
        const full = encodeStateKey(3, 1, uk, mk);
        expect(startsWith(full, prefix)).toBe(true);
        // A prefix scan [prefix, successor) finds it.
        expect(compareBytes(full, prefix)).toBeGreaterThan(0);
        expect(compareBytes(full, prefixSuccessor(prefix) as Uint8Array)).toBeLessThan(0);
        expect(decodeStateKey(full)).toEqual({ keyGroup: 3, stateId: 1, userKey: uk, mapKey: mk });
      }
      for (const other of userKeys) {
        if (other === uk) continue;
        for (const mk of mapKeys) {
          expect(startsWith(encodeStateKey(3, 1, other, mk), prefix), `${String(other)} under ${String(uk)}`).toBe(false);
        }
      }
    }
    // Other states and key groups are other prefixes too.
    expect(startsWith(encodeStateKey(3, 2, 'a', 'x'), encodeStateKey(3, 1, 'a'))).toBe(false);
    expect(startsWith(encodeStateKey(4, 1, 'a', 'x'), encodeStateKey(3, 1, 'a'))).toBe(false);
  });

  it('lays out key group and state id as big-endian u16 before the user key', () => {
    const key = encodeStateKey(0x0102, 0x0304, true);
    expect(Array.from(key)).toEqual([1, 2, 3, 4, 0x03]);
    expect(decodeStateKey(key)).toEqual({ keyGroup: 0x0102, stateId: 0x0304, userKey: true, mapKey: undefined });
  });

  it('orders numbers numerically and strings by UTF-8 bytes', () => {
    const numbers = [-Infinity, -1e10, -2, -1.5, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 1, 1.5, 2, 10, 1e10, Infinity];
    const sorted = numbers.map((n) => encodeKey(n)).sort(compareBytes).map((b) => decodeKey(b));
    expect(sorted).toEqual(numbers);
    const strings = ['', '\0', '\0\0', 'a', 'a\0', 'a\x01', 'ab', 'b', 'é', '日'];
    const sortedStrings = [...strings].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(strings.map((s) => encodeKey(s)).sort(compareBytes).map((b) => decodeKey(b))).toEqual(sortedStrings);
    // Type order: false < true < numbers < bigints < strings.
    const mixed: KeyValue[] = ['a', 1n, 5, true, false];
    expect(mixed.map((k) => encodeKey(k)).sort(compareBytes).map((b) => decodeKey(b))).toEqual([false, true, 5, 1n, 'a']);
  });

  it('rejects unsupported key types and malformed bytes', () => {
    expect(() => encodeKey({} as unknown as KeyValue)).toThrow(TypeError);
    expect(() => encodeKey(undefined as unknown as KeyValue)).toThrow(/unsupported key type/);
    expect(() => decodeKey(Uint8Array.of(0x99))).toThrow(/unknown tag/);
    expect(() => decodeKey(Uint8Array.of(0x07, 0x61))).toThrow(/unterminated/);
    expect(() => decodeKey(Uint8Array.of(0x07, 0x00, 0x05))).toThrow(/escape/);
    expect(() => decodeKey(Uint8Array.of(0x05, 1, 2))).toThrow(/truncated/);
  });

  it('computes prefix successors with carry', () => {
    expect(Array.from(prefixSuccessor(Uint8Array.of(1, 2)) as Uint8Array)).toEqual([1, 3]);
    expect(Array.from(prefixSuccessor(Uint8Array.of(1, 0xff, 0xff)) as Uint8Array)).toEqual([2]);
    expect(prefixSuccessor(Uint8Array.of(0xff, 0xff))).toBeUndefined();
  });

  it('encodes state table rows under key group 0xFFFF', () => {
    const [key, value] = encodeStateTableRow({ name: 'séance', id: 258, kind: 'map' });
    expect(isStateTableKey(key)).toBe(true);
    expect(isStateTableKey(encodeStateKey(0x7fff, 0xffff, 'x'))).toBe(false);
    expect(Array.from(value)).toEqual([1, 2, 2]);
    expect(decodeStateTableRow(key, value)).toEqual({ name: 'séance', id: 258, kind: 'map' });
    expect(() => decodeStateTableRow(key, Uint8Array.of(0, 1, 9))).toThrow(/malformed/);
  });
});
