// The seeds `npm test` runs, and reading seeds from the environment for a replay.

/** 0..29: the kill point and kind go round-robin over the seed, so these cover every point of both kinds twice. */
export const FIXED_SEEDS: readonly number[] = Array.from({ length: 30 }, (_, i) => i);

/**
 * Seeds named in `value` (`FAULT_SEED=12` or `FAULT_SEED=3,17`), or undefined when unset.
 *
 * @example seedsFromEnv('3,17'); // [3, 17]
 */
export function seedsFromEnv(value: string | undefined): number[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seeds = value.split(',').map((s) => Number(s.trim()));
  const bad = seeds.find((n) => !Number.isSafeInteger(n) || n < 0);
  if (bad !== undefined) throw new RangeError(`FAULT_SEED must be non-negative integers separated by commas, got ${JSON.stringify(value)}`);
  return seeds;
}
