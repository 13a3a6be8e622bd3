// The time → x mapping of the SVG.
import type { TimeBounds, TimeScale } from './types.ts';

/** Span shown when every event has the same time: one second, so the axis still has a unit to show. */
const EMPTY_SPAN_MS = 1000;

/**
 * A linear scale putting `bounds.start` at `left` and `bounds.end` at `right` px.
 *
 * @example timeScale({ start: 1000, end: 3000 }, 100, 300).x(2000) // 200
 */
export function timeScale(bounds: TimeBounds, left: number, right: number): TimeScale {
  const span = bounds.end > bounds.start ? bounds.end - bounds.start : EMPTY_SPAN_MS;
  const pxPerMs = (right - left) / span;
  return { start: bounds.start, span, left, right, x: (at) => left + (at - bounds.start) * pxPerMs };
}
