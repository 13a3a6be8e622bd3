// Pure window arithmetic: tumbling and sliding window ranges, and merging session windows.
import type { TimeWindow } from './types.ts';

/**
 * Start of the window of length `step` (a tumbling size or a sliding slide) containing
 * `timestamp`, windows aligned to `offsetMs` (also right for negative times).
 *
 * @example tumblingWindowStart(1234, 1000, 0); // 1000
 */
export function tumblingWindowStart(timestamp: number, step: number, offsetMs: number): number {
  const remainder = (((timestamp - offsetMs) % step) + step) % step;
  return timestamp - remainder;
}

/**
 * The one tumbling window `[start, start + size)` containing `timestamp`.
 *
 * @example tumblingWindows(61_000, 60_000, 0); // [{ start: 60_000, end: 120_000 }]
 */
export function tumblingWindows(timestamp: number, sizeMs: number, offsetMs: number): TimeWindow[] {
  const start = tumblingWindowStart(timestamp, sizeMs, offsetMs);
  return [{ start, end: start + sizeMs }];
}

/**
 * Every sliding window of `sizeMs`, starting each `slideMs`, that contains `timestamp`, oldest
 * first: `ceil(size / slide)` windows when the slide divides the size.
 *
 * @example slidingWindows(12, 10, 5, 0); // [{ start: 5, end: 15 }, { start: 10, end: 20 }]
 */
export function slidingWindows(timestamp: number, sizeMs: number, slideMs: number, offsetMs: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const last = tumblingWindowStart(timestamp, slideMs, offsetMs);
  let first = last;
  while (first - slideMs > timestamp - sizeMs) first -= slideMs;
  for (let start = first; start <= last; start += slideMs) windows.push({ start, end: start + sizeMs });
  return windows;
}

/**
 * Whether two windows intersect or touch, as Flink's `TimeWindow.intersects`: sessions
 * `[0, 5)` and `[5, 9)` merge, so records exactly `gap` apart belong to one session.
 */
export function windowsIntersect(a: TimeWindow, b: TimeWindow): boolean {
  return a.start <= b.end && a.end >= b.start;
}

/** The result of adding one window to a key's sessions. */
export interface SessionMerge {
  /** The session the added window ends up in (the added window itself when it absorbed nothing). */
  readonly merged: TimeWindow;
  /** The existing sessions merged into it, by start; they are replaced by `merged`. */
  readonly absorbed: readonly TimeWindow[];
}

/**
 * Adds `added` to `sessions` (pairwise non-intersecting): every session it intersects, directly
 * or through another merged one, is absorbed into one covering session.
 *
 * @example
 * mergeIntoSessions([{ start: 0, end: 10 }, { start: 20, end: 30 }], { start: 8, end: 21 });
 * // { merged: { start: 0, end: 30 }, absorbed: [{ start: 0, end: 10 }, { start: 20, end: 30 }] }
 */
export function mergeIntoSessions(sessions: readonly TimeWindow[], added: TimeWindow): SessionMerge {
  let merged = added;
  const absorbed: TimeWindow[] = [];
  const rest = [...sessions];
  // Sessions are disjoint, so one pass usually suffices; repeat until nothing more intersects.
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < rest.length; i++) {
      const s = rest[i];
      if (!windowsIntersect(s, merged)) continue;
      absorbed.push(s);
      merged = { start: Math.min(merged.start, s.start), end: Math.max(merged.end, s.end) };
      rest.splice(i--, 1);
      changed = true;
    }
  }
  absorbed.sort((a, b) => a.start - b.start);
  return { merged, absorbed };
}
