// Test helper: a small seeded PRNG (mulberry32), so a fault schedule can be printed and replayed by its seed.

/** A function returning uniform numbers in [0, 1), the same sequence for the same seed. */
export type Random = () => number;

/**
 * mulberry32: 32-bit state, fast, good enough to pick faults.
 *
 * @example const rng = seededRandom(42); rng(); // 0.6011037519201636 every time
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from the environment (`BATON_FAULT_SEED`, to replay a failure) or a fresh random one. */
export function faultSeed(): number {
  const fromEnv = process.env.BATON_FAULT_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0;
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}
