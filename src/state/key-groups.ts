// Key-group math: a key hashes to one of `maxParallelism` key groups; contiguous ranges of key
// groups map to subtasks, so state can be redistributed when the parallelism changes.
import type { KeyGroupRange, KeyValue } from './types.ts';

export const DEFAULT_MAX_PARALLELISM = 128;
export const MAX_MAX_PARALLELISM = 32768;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function mixK(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3 (x86, 32 bit) over the UTF-16 code units of a string, two units per block. */
export function hashString(s: string, seed = 0x9747b28c): number {
  return mixString(s, seed) >>> 0;
}

function mixString(s: string, seed = 0x9747b28c): number {
  let h = seed | 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) h = mixK(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  if (i < n) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ (n * 2));
}

/** A stable 32-bit hash of a key: equal keys hash equally in every thread and process. */
export function hashKey(key: KeyValue): number {
  return mixKey(key) >>> 0;
}

// Returns the hash as a signed int32 so callers that reduce it further keep it unboxed.
function mixKey(key: KeyValue): number {
  switch (typeof key) {
    case 'number':
      if ((key | 0) === key) return fmix32(mixK(0x1234567, key));
      if (key === 0) return fmix32(mixK(0x1234567, 0)); // -0 is the same key as 0
      // NaN equals no key, itself included: its records could never meet their state again.
      if (Number.isNaN(key)) throw new TypeError('unsupported key NaN: keys must be string, number (not NaN), bigint or boolean');
      f64[0] = key;
      return fmix32(mixK(mixK(0x7654321, u32[0]), u32[1]));
    case 'string':
      return mixString(key);
    case 'boolean':
      return fmix32(mixK(0x2b2b2b2b, key ? 1 : 0));
    case 'bigint':
      return mixString(key.toString(16), 0x3c3c3c3c);
    default:
      throw new TypeError(`unsupported key type ${typeof key}: keys must be string, number, bigint or boolean`);
  }
}

export function keyGroupForHash(hash: number, maxParallelism: number): number {
  return hash % maxParallelism;
}

/** Key group of a key (0 ≤ result < maxParallelism). */
export function keyGroupFor(key: KeyValue, maxParallelism: number): number {
  return (mixKey(key) >>> 0) % maxParallelism;
}

/** Subtask that owns a key group, the inverse of {@link keyGroupRangeFor}. */
export function subtaskForKeyGroup(keyGroup: number, maxParallelism: number, parallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The contiguous key groups subtask `index` of `parallelism` owns. */
export function keyGroupRangeFor(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  const start = Math.ceil((index * maxParallelism) / parallelism);
  const end = Math.ceil(((index + 1) * maxParallelism) / parallelism) - 1;
  return { start, end };
}

export function keyGroupRangeContains(range: KeyGroupRange, keyGroup: number): boolean {
  return keyGroup >= range.start && keyGroup <= range.end;
}

export function keyGroupRangeSize(range: KeyGroupRange): number {
  return range.end < range.start ? 0 : range.end - range.start + 1;
}
