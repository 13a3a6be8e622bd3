// The immutable keyed-state chunk format: sorted entries (and tombstones) of one key-group range.
import { crc32 } from 'node:zlib';
import type { KeyGroupRange } from '../types.ts';
import { ChunkCorruptError } from './errors.ts';

/**
 * One immutable chunk of keyed state for a key-group range. A `base` holds every live entry of
 * the range; a `delta` holds exactly the entries written (`value`) or deleted (`null`, a
 * tombstone) since the previous chunk of the chain. Entries are sorted by key bytes, keys unique.
 *
 * @example
 * const chunk: DeltaChunk = { kind: 'delta', range: { start: 0, end: 31 }, entries: [[key, null]] };
 */
export interface DeltaChunk {
  kind: 'base' | 'delta';
  range: KeyGroupRange;
  entries: Array<[key: Uint8Array, value: Uint8Array | null]>;
}

/** `BTNS`: baton state chunk; distinct from the magic of checkpoint metadata and record batches. */
export const CHUNK_MAGIC = 0x42544e53;
export const CHUNK_VERSION = 1;
/** Bytes before the payload: magic u32, version u16, flags u16, entry count u32, payload CRC32 u32. */
export const CHUNK_HEADER_BYTES = 16;

const FLAG_DELTA = 0x0001;
const KNOWN_FLAGS = FLAG_DELTA;

/**
 * Lexicographic byte order (shorter first on a common prefix): the order LMDB keeps keys in.
 *
 * @example
 * entries.sort((a, b) => compareBytes(a[0], b[0]));
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

// Small keys and values are copied byte by byte: TypedArray#set costs more than the loop for them.
function copyInto(out: Uint8Array, pos: number, src: Uint8Array): number {
  const n = src.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) out[pos + i] = src[i];
  } else {
    out.set(src, pos);
  }
  return pos + n;
}

/**
 * Encodes a chunk. Layout after the 16-byte header: range start and end (i32 BE each), then per
 * entry `varint keyLength, key, varint (valueLength + 1) or 0 for a tombstone, value`. Throws a
 * `RangeError` if entries are unsorted or duplicated, or if a base holds a tombstone.
 *
 * @example
 * const bytes = encodeChunk({ kind: 'base', range: { start: 0, end: 127 }, entries });
 */
export function encodeChunk(chunk: DeltaChunk): Uint8Array {
  const { entries, kind, range } = chunk;
  if (kind !== 'base' && kind !== 'delta') throw new RangeError(`unknown chunk kind ${String(kind)}`);
  let size = CHUNK_HEADER_BYTES + 8;
  let prev: Uint8Array | undefined;
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i];
    if (prev !== undefined && compareBytes(prev, key) >= 0) {
      throw new RangeError(`chunk entries must be sorted by key with unique keys (entry ${i})`);
    }
    prev = key;
    size += varintSize(key.length) + key.length;
    if (value === null) {
      if (kind === 'base') throw new RangeError(`a base chunk cannot hold tombstones (entry ${i})`);
      size += 1;
    } else {
      size += varintSize(value.length + 1) + value.length;
    }
  }
  const out = Buffer.allocUnsafe(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, CHUNK_MAGIC);
  view.setUint16(4, CHUNK_VERSION);
  view.setUint16(6, kind === 'delta' ? FLAG_DELTA : 0);
  view.setUint32(8, entries.length);
  view.setInt32(16, range.start);
  view.setInt32(20, range.end);
  let pos = CHUNK_HEADER_BYTES + 8;
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i];
    pos = writeVarint(out, pos, key.length);
    pos = copyInto(out, pos, key);
    if (value === null) {
      out[pos++] = 0;
    } else {
      pos = writeVarint(out, pos, value.length + 1);
      pos = copyInto(out, pos, value);
    }
  }
  view.setUint32(12, crc32(out.subarray(CHUNK_HEADER_BYTES)));
  return out;
}

/**
 * A validated chunk as offsets into its bytes, one typed-array slot per entry: no object per
 * entry, so restoring millions of entries creates no long-lived garbage. `valueStart` is -1 for
 * a tombstone.
 */
export interface ChunkEntries {
  readonly kind: 'base' | 'delta';
  readonly range: KeyGroupRange;
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly keyStart: Uint32Array;
  readonly keyEnd: Uint32Array;
  readonly valueStart: Int32Array;
  readonly valueEnd: Uint32Array;
}

/**
 * Validates a chunk and locates its entries (see {@link ChunkEntries}); `name` only labels
 * errors. Throws {@link ChunkCorruptError} on any corruption.
 *
 * @example
 * const c = readChunkEntries(bytes, 'shared/7f3a'); const firstKey = c.bytes.subarray(c.keyStart[0], c.keyEnd[0]);
 */
export function readChunkEntries(bytes: Uint8Array, name: string): ChunkEntries {
  const corrupt = (reason: string): never => {
    throw new ChunkCorruptError(name, reason);
  };
  if (bytes.length < CHUNK_HEADER_BYTES + 8) corrupt(`truncated: ${bytes.length} bytes is shorter than a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== CHUNK_MAGIC) corrupt(`bad magic 0x${magic.toString(16).padStart(8, '0')}`);
  const version = view.getUint16(4);
  if (version !== CHUNK_VERSION) corrupt(`unsupported version ${version}`);
  const flags = view.getUint16(6);
  if ((flags & ~KNOWN_FLAGS) !== 0) corrupt(`unknown flags 0x${flags.toString(16)}`);
  const count = view.getUint32(8);
  const expectedCrc = view.getUint32(12);
  const actualCrc = crc32(bytes.subarray(CHUNK_HEADER_BYTES));
  // A truncated chunk almost always fails the checksum first; the bounds checks below still guard
  // against a payload that is consistent with its checksum but malformed.
  if (actualCrc !== expectedCrc) corrupt(`checksum mismatch (stored ${expectedCrc}, computed ${actualCrc})`);
  const kind = (flags & FLAG_DELTA) !== 0 ? 'delta' : 'base';
  const range: KeyGroupRange = { start: view.getInt32(16), end: view.getInt32(20) };
  const end = bytes.length;
  // Every entry takes at least 2 bytes, so a count beyond that is corrupt: refuse before allocating.
  if (count > (end - CHUNK_HEADER_BYTES - 8) / 2) corrupt(`entry count ${count} exceeds the payload`);
  const keyStart = new Uint32Array(count);
  const keyEnd = new Uint32Array(count);
  const valueStart = new Int32Array(count);
  const valueEnd = new Uint32Array(count);
  let pos = CHUNK_HEADER_BYTES + 8;
  const readVarint = (): number => {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (pos >= end) corrupt('truncated inside an entry');
      const b = bytes[pos++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
      if (scale > 2 ** 49) corrupt('varint too long');
    }
  };
  for (let i = 0; i < count; i++) {
    const keyLength = readVarint();
    if (keyLength > end - pos) corrupt(`truncated key of entry ${i}`);
    keyStart[i] = pos;
    pos += keyLength;
    keyEnd[i] = pos;
    const tag = readVarint();
    if (tag === 0) {
      if (kind === 'base') corrupt(`tombstone in a base chunk (entry ${i})`);
      valueStart[i] = -1;
    } else {
      const valueLength = tag - 1;
      if (valueLength > end - pos) corrupt(`truncated value of entry ${i}`);
      valueStart[i] = pos;
      pos += valueLength;
      valueEnd[i] = pos;
    }
  }
  if (pos !== end) corrupt(`${end - pos} trailing bytes after ${count} entries`);
  return { kind, range, bytes, count, keyStart, keyEnd, valueStart, valueEnd };
}

/**
 * Decodes and validates a chunk; `name` only labels errors. Keys and values of the result are
 * views into `bytes` (no copy), so keep `bytes` unchanged while the chunk is in use.
 * Throws {@link ChunkCorruptError} on any corruption.
 *
 * @example
 * const chunk = decodeChunk(await readFile(path), 'shared/7f3a');
 */
export function decodeChunk(bytes: Uint8Array, name: string): DeltaChunk {
  const c = readChunkEntries(bytes, name);
  const entries: DeltaChunk['entries'] = new Array(c.count);
  for (let i = 0; i < c.count; i++) {
    entries[i] = [bytes.subarray(c.keyStart[i], c.keyEnd[i]), c.valueStart[i] < 0 ? null : bytes.subarray(c.valueStart[i], c.valueEnd[i])];
  }
  return { kind: c.kind, range: c.range, entries };
}
