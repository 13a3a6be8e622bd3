// Throttled progress reports of one load: at most one per `everyBytes`, and always a final one.
import type { ReferenceDataProgressListener } from './types.ts';

/** Reports a load's progress; see {@link createProgressReporter}. */
export interface ProgressReporter {
  /** Records `loadedBytes` so far; reports when `everyBytes` passed since the last report, or on reaching the total. */
  advance(loadedBytes: number): void;
}

/**
 * A reporter for a load of `totalBytes`. The report with `loadedBytes === totalBytes` is sent
 * exactly once, for an empty load too (as soon as the reporter is created). An exception thrown by
 * the listener is ignored.
 *
 * @example
 * ```ts
 * const progress = createProgressReporter(uri, size, 8 << 20, onProgress);
 * progress.advance(bytesSoFar);
 * ```
 */
export function createProgressReporter(
  uri: string,
  totalBytes: number,
  everyBytes: number,
  listener: ReferenceDataProgressListener | undefined,
): ProgressReporter {
  let reported = -1;
  const report = (loadedBytes: number): void => {
    reported = loadedBytes;
    try {
      listener?.({ uri, loadedBytes, totalBytes });
    } catch {
      // Progress is advisory: a broken progress display must not fail the job's reference data.
    }
  };
  if (totalBytes === 0) report(0);
  return {
    advance(loadedBytes) {
      if (reported === totalBytes) return;
      if (loadedBytes === totalBytes || loadedBytes - Math.max(reported, 0) >= everyBytes) report(loadedBytes);
    },
  };
}
