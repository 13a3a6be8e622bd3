// The job variants of the kill schedules and what one failure-free run of each commits (a plain loop).
import { expectedSums } from '../e2e/checkpoint-helpers.ts';
import { expectedWindows } from '../e2e/jobs/event-time-windows.ts';

export type Variant = 'keyed' | 'timers' | 'windows';
export const VARIANTS: readonly Variant[] = ['keyed', 'timers', 'windows'];

/** Event-time buckets of the timers variant: a timer per key fires at each multiple of BUCKET. */
export const BUCKET = 50;
/** How many worker-thread kills one run can ask for (`kill-1` … `kill-<n>` in the signals directory). */
export const KILL_SLOTS = 3;
/** Keys of the keyed and timers variants. */
export const KEYS = 7;

/** Records per run; small, so a schedule runs in about a second (8 segments: kills land at checkpoints 2–4, the input ends later). */
export const RECORDS = 2_000;

/** Every line an uninterrupted run of `variant` over RECORDS records commits, sorted. */
export function expectedLines(variant: Variant, records = RECORDS): string[] {
  switch (variant) {
    case 'keyed':
      return expectedSums(records, KEYS);
    case 'timers':
      return expectedBucketSums(records);
    case 'windows':
      return expectedWindows(records);
  }
}

/** `key,end,sum` of the timers variant: per key, the sum of its numbers n (1..records) with end - BUCKET <= n < end. */
export function expectedBucketSums(records: number, keys = KEYS): string[] {
  const sums = new Map<string, number>();
  for (let n = 1; n <= records; n++) {
    const id = `${n % keys},${(Math.floor(n / BUCKET) + 1) * BUCKET}`;
    sums.set(id, (sums.get(id) ?? 0) + n);
  }
  return [...sums.entries()].map(([id, sum]) => `${id},${sum}`).sort();
}
