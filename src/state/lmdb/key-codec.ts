// LMDB key layout of keyed state: [key group u16][state id u16][user key][map key], prefix-free.
import type { KeyValue, StateKind } from '../types.ts';

/*
 * Keys are built as "binary strings" (one char per byte, 0..255) on the hot path: a JS string is
 * a cheap Map key for the write-back overlay, compares in the same order as the bytes (UTF-16
 * code units below 256 compare like unsigned bytes, shorter first on a common prefix: memcmp
 * order, which is LMDB's), and converts to bytes with one native `Buffer.from(s, 'latin1')`.
 *
 * Every encoded key is self-delimiting, so no encoded key is a proper prefix of another: that is
 * what lets all map entries of one user key be found by a prefix range scan that never picks up
 * another user key ('a' vs 'ab', 1 vs 10, 'a' vs 'a\0').
 */

/** Type tags; their order is the order of key types in a scan: false < true < numbers < bigints < strings. */
export const KEY_TAG_FALSE = 0x02;
export const KEY_TAG_TRUE = 0x03;
export const KEY_TAG_NUMBER = 0x05;
export const KEY_TAG_BIGINT = 0x06;
/** UTF-8, with 0x00 escaped as 0x00 0x01, terminated by 0x00 0x00 (order-preserving). */
export const KEY_TAG_STRING = 0x07;
/** Strings with lone surrogates (not representable in UTF-8): UTF-16 BE code units, escaped likewise. */
export const KEY_TAG_UTF16 = 0x08;

/** Key group of the state table rows (`[0xFF 0xFF][state name UTF-8]`); above any real key group. */
export const STATE_TABLE_KEY_GROUP = 0xffff;
/** Largest state id; ids are u16 in keys. */
export const MAX_STATE_ID = 0xffff;
/** LMDB's key size limit with the default 4 KiB page size. */
export const MAX_KEY_BYTES = 1978;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const f64Bytes = new Uint8Array(8);
const f64View = new DataView(f64Bytes.buffer);

function unsupportedKey(key: unknown): never {
  throw new TypeError(`unsupported key type ${typeof key}: keys must be string, number, bigint or boolean`);
}

function encodeNumber(n: number): string {
  const b = f64Bytes;
  if (Number.isNaN(n)) {
    // One NaN, whatever its payload: NaN is one key, as in a JS Map.
    b[0] = 0xff; // 0x7ff8... with the sign bit flipped
    b[1] = 0xf8;
    b[2] = b[3] = b[4] = b[5] = b[6] = b[7] = 0;
  } else {
    // `n + 0` turns -0 into 0, which a JS Map treats as the same key.
    f64View.setFloat64(0, n + 0);
    if (b[0] & 0x80) {
      // Negative: invert every bit so that larger magnitudes sort first.
      for (let i = 0; i < 8; i++) b[i] = ~b[i] & 0xff;
    } else {
      b[0] |= 0x80;
    }
  }
  return String.fromCharCode(KEY_TAG_NUMBER, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

function isAsciiWithoutNul(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

function encodeString(s: string): string {
  // The common case, plain ASCII without NUL, is its own UTF-8 and needs no escaping.
  if (isAsciiWithoutNul(s)) return `\x07${s}\0\0`;
  let bytes: string;
  let tag: number;
  if (LONE_SURROGATE.test(s)) {
    // UTF-8 would map every lone surrogate to U+FFFD and merge distinct keys; keep the code units.
    tag = KEY_TAG_UTF16;
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      out += String.fromCharCode(c >>> 8, c & 0xff);
    }
    bytes = out;
  } else {
    tag = KEY_TAG_STRING;
    bytes = Buffer.from(s, 'utf8').toString('latin1');
  }
  return `${String.fromCharCode(tag)}${bytes.replaceAll('\0', '\0\x01')}\0\0`;
}

/**
 * Encodes a key (user key or map key) as a binary string (one char per byte).
 *
 * @example
 * encodeKeyBinary('a'); // '\x07a\0\0'
 */
export function encodeKeyBinary(key: KeyValue): string {
  switch (typeof key) {
    case 'string':
      return encodeString(key);
    case 'number':
      return encodeNumber(key);
    case 'boolean':
      return key ? '\x03' : '\x02';
    case 'bigint':
      // Decimal digits and '-' never contain 0x00, so one 0x00 terminates.
      return `\x06${key.toString()}\0`;
    default:
      return unsupportedKey(key);
  }
}

/**
 * Encodes a key as bytes; see {@link encodeKeyBinary}.
 *
 * @example
 * encodeKey(10); // Uint8Array [0x05, 0xc0, 0x24, 0, 0, 0, 0, 0, 0]
 */
export function encodeKey(key: KeyValue): Uint8Array {
  return Buffer.from(encodeKeyBinary(key), 'latin1');
}

/**
 * The bytes of a binary string.
 *
 * @example
 * binaryStringToBytes('\x07a\0\0'); // <Buffer 07 61 00 00>
 */
export function binaryStringToBytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/**
 * The binary string of bytes `[start, end)`.
 *
 * @example
 * bytesToBinaryString(encodeKey('a')); // '\x07a\0\0'
 */
export function bytesToBinaryString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1', start, end);
}

function corruptKey(offset: number, what: string): never {
  throw new RangeError(`malformed encoded key at byte ${offset}: ${what}`);
}

// End (exclusive) of an escaped, 0x00 0x00-terminated run starting at `pos`.
function escapedEnd(s: string, pos: number): number {
  for (let i = pos; i < s.length; i++) {
    if (s.charCodeAt(i) !== 0) continue;
    const next = s.charCodeAt(i + 1);
    if (next === 0) return i + 2;
    if (next !== 1) corruptKey(i, 'bad escape');
    i++;
  }
  return corruptKey(pos, 'unterminated string');
}

/**
 * Length of the encoded key that starts at `offset` of a binary string.
 *
 * @example
 * encodedKeyLengthBinary('\x07ab\0\0'); // 5
 */
export function encodedKeyLengthBinary(s: string, offset = 0): number {
  const tag = s.charCodeAt(offset);
  switch (tag) {
    case KEY_TAG_FALSE:
    case KEY_TAG_TRUE:
      return 1;
    case KEY_TAG_NUMBER:
      if (offset + 9 > s.length) corruptKey(offset, 'truncated number');
      return 9;
    case KEY_TAG_BIGINT: {
      const end = s.indexOf('\0', offset + 1);
      if (end < 0) corruptKey(offset, 'unterminated bigint');
      return end + 1 - offset;
    }
    case KEY_TAG_STRING:
    case KEY_TAG_UTF16:
      return escapedEnd(s, offset + 1) - offset;
    default:
      return corruptKey(offset, `unknown tag ${tag}`);
  }
}

function hasHighChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/**
 * Decodes the key that starts at `offset` of a binary string (the inverse of {@link encodeKeyBinary}).
 *
 * @example
 * decodeKeyBinary(encodeKeyBinary('ab')); // 'ab'
 */
export function decodeKeyBinary(s: string, offset = 0): KeyValue {
  const tag = s.charCodeAt(offset);
  switch (tag) {
    case KEY_TAG_FALSE:
      return false;
    case KEY_TAG_TRUE:
      return true;
    case KEY_TAG_NUMBER: {
      if (offset + 9 > s.length) corruptKey(offset, 'truncated number');
      const b = f64Bytes;
      for (let i = 0; i < 8; i++) b[i] = s.charCodeAt(offset + 1 + i);
      if (b[0] & 0x80) b[0] &= 0x7f;
      else for (let i = 0; i < 8; i++) b[i] = ~b[i] & 0xff;
      return f64View.getFloat64(0);
    }
    case KEY_TAG_BIGINT: {
      const end = s.indexOf('\0', offset + 1);
      if (end < 0) corruptKey(offset, 'unterminated bigint');
      return BigInt(s.slice(offset + 1, end));
    }
    case KEY_TAG_STRING: {
      let raw = s.slice(offset + 1, escapedEnd(s, offset + 1) - 2);
      if (raw.includes('\0')) raw = raw.replaceAll('\0\x01', '\0');
      // ASCII is its own UTF-8; anything else is UTF-8 bytes to decode.
      return hasHighChars(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
    }
    case KEY_TAG_UTF16: {
      let raw = s.slice(offset + 1, escapedEnd(s, offset + 1) - 2);
      if (raw.includes('\0')) raw = raw.replaceAll('\0\x01', '\0');
      let out = '';
      for (let i = 0; i + 1 < raw.length; i += 2) out += String.fromCharCode((raw.charCodeAt(i) << 8) | raw.charCodeAt(i + 1));
      return out;
    }
    default:
      return corruptKey(offset, `unknown tag ${tag}`);
  }
}

/**
 * Length in bytes of the encoded key that starts at `offset`.
 *
 * @example
 * encodedKeyLength(encodeKey('ab'), 0); // 5
 */
export function encodedKeyLength(bytes: Uint8Array, offset = 0): number {
  return encodedKeyLengthBinary(bytesToBinaryString(bytes), offset);
}

/**
 * Decodes the key that starts at `offset` (the inverse of {@link encodeKey}).
 *
 * @example
 * decodeKey(encodeKey(42n)); // 42n
 */
export function decodeKey(bytes: Uint8Array, offset = 0): KeyValue {
  return decodeKeyBinary(bytesToBinaryString(bytes), offset);
}

/**
 * The 2-char binary string of a key group or state id (u16 big-endian).
 *
 * @example
 * u16BinaryString(258); // '\x01\x02'
 */
export function u16BinaryString(n: number): string {
  return String.fromCharCode(n >>> 8, n & 0xff);
}

/**
 * The full LMDB key of a state entry: `[keyGroup u16 BE][stateId u16 BE][user key][map key]`.
 *
 * @example
 * encodeStateKey(7, 1, 'user-42', 'cart'); // value entry of map state 1 for key 'user-42'
 */
export function encodeStateKey(keyGroup: number, stateId: number, userKey: KeyValue, mapKey?: KeyValue): Uint8Array {
  const mk = mapKey === undefined ? '' : encodeKeyBinary(mapKey);
  return binaryStringToBytes(u16BinaryString(keyGroup) + u16BinaryString(stateId) + encodeKeyBinary(userKey) + mk);
}

/** The parts of a state key; `mapKey` is undefined for value and list state. */
export interface DecodedStateKey {
  keyGroup: number;
  stateId: number;
  userKey: KeyValue;
  mapKey: KeyValue | undefined;
}

/**
 * Splits a state key into its parts (the inverse of {@link encodeStateKey}).
 *
 * @example
 * decodeStateKey(encodeStateKey(7, 1, 'k', 3)); // { keyGroup: 7, stateId: 1, userKey: 'k', mapKey: 3 }
 */
export function decodeStateKey(bytes: Uint8Array): DecodedStateKey {
  if (bytes.length < 5) corruptKey(0, 'state key shorter than 5 bytes');
  const s = bytesToBinaryString(bytes);
  const keyGroup = (bytes[0] << 8) | bytes[1];
  const stateId = (bytes[2] << 8) | bytes[3];
  const userKeyEnd = 4 + encodedKeyLengthBinary(s, 4);
  const userKey = decodeKeyBinary(s, 4);
  const mapKey = userKeyEnd < s.length ? decodeKeyBinary(s, userKeyEnd) : undefined;
  return { keyGroup, stateId, userKey, mapKey };
}

/**
 * Key group of a state key (or {@link STATE_TABLE_KEY_GROUP} for a state table row).
 *
 * @example
 * keyGroupOfKey(encodeStateKey(7, 0, 'k')); // 7
 */
export function keyGroupOfKey(bytes: Uint8Array): number {
  return (bytes[0] << 8) | bytes[1];
}

/**
 * {@link prefixSuccessor} of a binary string.
 *
 * @example
 * prefixSuccessorBinary('a\xff'); // 'b'
 */
export function prefixSuccessorBinary(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c !== 0xff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}

/**
 * The smallest key greater than every key that starts with `prefix`, or undefined if there is
 * none (all 0xFF): the exclusive end of a prefix scan.
 *
 * @example
 * prefixSuccessor(Uint8Array.of(1, 0xff)); // Uint8Array [2]
 */
export function prefixSuccessor(prefix: Uint8Array): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const out = Buffer.from(prefix.subarray(0, i + 1));
      out[i]++;
      return out;
    }
  }
  return undefined;
}

const KIND_CODES: Record<StateKind, number> = { value: 1, map: 2, list: 3 };
const KINDS: readonly (StateKind | undefined)[] = [undefined, 'value', 'map', 'list'];

/** A row of the state table: state name → id and kind. */
export interface StateTableRow {
  name: string;
  id: number;
  kind: StateKind;
}

/**
 * Encodes a state table row as an LMDB/chunk entry: key `[0xFF 0xFF][name UTF-8]`, value
 * `[id u16 BE][kind: 1 value, 2 map, 3 list]`.
 *
 * @example
 * const [key, value] = encodeStateTableRow({ name: 'count', id: 0, kind: 'value' });
 */
export function encodeStateTableRow(row: StateTableRow): [key: Buffer, value: Buffer] {
  const name = Buffer.from(row.name, 'utf8');
  const key = Buffer.allocUnsafe(2 + name.length);
  key[0] = 0xff;
  key[1] = 0xff;
  name.copy(key, 2);
  return [key, Buffer.from([row.id >>> 8, row.id & 0xff, KIND_CODES[row.kind]])];
}

/**
 * True if `key` is a state table row rather than a state entry.
 *
 * @example
 * const data = chunk.entries.filter(([key]) => !isStateTableKey(key));
 */
export function isStateTableKey(key: Uint8Array): boolean {
  return key.length >= 2 && key[0] === 0xff && key[1] === 0xff;
}

/**
 * Decodes a state table row (the inverse of {@link encodeStateTableRow}); throws a `RangeError`
 * when it is malformed.
 *
 * @example
 * decodeStateTableRow(...encodeStateTableRow({ name: 'n', id: 3, kind: 'list' })); // the row
 */
export function decodeStateTableRow(key: Uint8Array, value: Uint8Array): StateTableRow {
  const kind = value.length === 3 ? KINDS[value[2]] : undefined;
  if (!isStateTableKey(key) || kind === undefined) throw new RangeError('malformed state table row');
  const buf = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { name: buf.toString('utf8', 2), id: (value[0] << 8) | value[1], kind };
}
