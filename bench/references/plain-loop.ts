// Reference: keyed count as a single-threaded for loop (the upper bound with no framework at all).
import { checksumTerm, keyOf, mapRecord } from '../workload.ts';

/** Process records 0..n-1 in one loop and return the checksum of all emitted counts. */
export function runPlainLoop(n: number): number {
  const counts = new Map<number, number>();
  let checksum = 0;
  for (let i = 0; i < n; i++) {
    const key = keyOf(mapRecord(i));
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    checksum += checksumTerm(key, count);
  }
  return checksum;
}
