// Tick spacing for a time axis: steps a reader counts in (1, 2, 5 ms ... 15 s, 30 s, 1 min ... 12 h, days).
import type { Ticks } from './types.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Between 1 s and 1 day the clock's own divisions read better than 1-2-5 (10 min, not 500 s).
const CLOCK_STEPS = [
  ...[1, 2, 5, 10, 15, 30].map((n) => n * SECOND),
  ...[1, 2, 5, 10, 15, 30].map((n) => n * MINUTE),
  ...[1, 2, 3, 6, 12].map((n) => n * HOUR),
];

/** Smallest of 1, 2, 5 x 10^k that is >= raw (raw > 0). */
function oneTwoFive(raw: number): number {
  const base = 10 ** Math.floor(Math.log10(raw));
  // The tolerance keeps raw = 0.3 (a float a hair above 3 x 0.1) from jumping to 0.5.
  for (const m of [1, 2, 5, 10]) if (m * base >= raw * (1 - 1e-12)) return m * base;
  return 10 * base;
}

/** Smallest readable step >= raw (ms, raw > 0). */
function niceStep(raw: number): number {
  if (raw <= SECOND) return oneTwoFive(raw);
  const clock = CLOCK_STEPS.find((step) => step >= raw);
  return clock ?? DAY * oneTwoFive(raw / DAY);
}

/**
 * Ticks for an axis spanning `spanMs`: the smallest readable step that yields at most `maxTicks`
 * ticks, and the ticks 0, step, 2 x step, ... up to `spanMs`. A span of 0 gets the single tick 0.
 *
 * @example niceTicks(10_000, 8) // { stepMs: 2000, ticks: [0, 2000, 4000, 6000, 8000, 10000] }
 * @example niceTicks(3_600_000, 8).stepMs // 600000 (10 min)
 */
export function niceTicks(spanMs: number, maxTicks: number): Ticks {
  if (!Number.isFinite(spanMs) || spanMs < 0) throw new RangeError(`niceTicks: spanMs must be a finite number >= 0, got ${spanMs}`);
  if (!Number.isInteger(maxTicks) || maxTicks < 2) throw new RangeError(`niceTicks: maxTicks must be an integer >= 2, got ${maxTicks}`);
  if (spanMs === 0) return { stepMs: SECOND, ticks: [0] };
  // n ticks cover n - 1 steps, so a step of at least span / (maxTicks - 1) keeps to maxTicks.
  const stepMs = niceStep(spanMs / (maxTicks - 1));
  const count = Math.floor(spanMs / stepMs + 1e-9) + 1;
  // toPrecision drops float noise such as 3 x 0.1 = 0.30000000000000004.
  const ticks = Array.from({ length: count }, (_, i) => Number((i * stepMs).toPrecision(12)));
  return { stepMs, ticks };
}
