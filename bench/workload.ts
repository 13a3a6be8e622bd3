// Shared "keyed count" workload for the throughput bench: record generation, map/key functions and the checksum.

/** Records are the integers 0..N-1. */
export const DEFAULT_N = 5_000_000;
export const QUICK_N = 1_000_000;

export const MODULUS = 1_000_003;
export const KEY_COUNT = 1000;

/** Map step: n -> v. */
export function mapRecord(n: number): number {
  return (n * 7 + 3) % MODULUS;
}

/** Key step: v -> key in [0, KEY_COUNT). */
export function keyOf(v: number): number {
  return v % KEY_COUNT;
}

/**
 * Checksum contribution of one emitted (key, new count) pair; an injective encoding of the pair.
 * Checksums are sums of these terms, so they do not depend on record order or on how keys are
 * partitioned: per-partition checksums can simply be added together.
 */
export function checksumTerm(key: number, count: number): number {
  return count * KEY_COUNT + key;
}

/**
 * Expected checksum for N records, computed independently of the Map-based implementations:
 * count keys in a typed array, then sum checksumTerm(key, 1..c) in closed form per key.
 */
export function expectedChecksum(n: number): number {
  const counts = new Float64Array(KEY_COUNT);
  for (let i = 0; i < n; i++) counts[keyOf(mapRecord(i))]++;
  let sum = 0;
  for (let key = 0; key < KEY_COUNT; key++) {
    const c = counts[key];
    sum += (KEY_COUNT * c * (c + 1)) / 2 + key * c;
  }
  if (!Number.isSafeInteger(sum)) throw new Error(`checksum for n=${n} exceeds safe integer range`);
  return sum;
}

/** Throw loudly if an implementation's checksum differs from the expected one. */
export function assertChecksum(impl: string, n: number, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new Error(`CHECKSUM MISMATCH in ${impl} (n=${n}): got ${actual}, expected ${expected}`);
  }
}
