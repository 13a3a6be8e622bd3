// The time axis: seconds since the earliest event, at a readable step.
import { niceTicks } from './nice-ticks.ts';
import { element, textElement } from './svg-element.ts';
import { ROW_HEIGHT } from './svg-style.ts';
import type { TimeScale } from './types.ts';

/** Height the axis takes below its line: tick labels and the caption. */
export const AXIS_HEIGHT = 2 * ROW_HEIGHT + 12;

/** Decimals a tick label needs so that ticks `stepMs` apart all differ (0.2 s → 1, 50 ms → 2). */
function decimals(stepMs: number): number {
  return Math.max(0, -Math.floor(Math.log10(stepMs / 1000) + 1e-9));
}

/** Ticks at least this far apart, so labels such as '1234.5' do not touch. */
const MIN_TICK_SPACING = 70;

/**
 * Axis line at y, ticks with labels in seconds, and a caption naming the origin
 * (`t0`, the earliest event, as ISO time when it is a plausible date).
 *
 * @example svgAxis(scale, 120)
 */
export function svgAxis(scale: TimeScale, y: number): string[] {
  const maxTicks = Math.max(2, Math.floor((scale.right - scale.left) / MIN_TICK_SPACING) + 1);
  const { stepMs, ticks } = niceTicks(scale.span, maxTicks);
  const digits = decimals(stepMs);
  const parts = [element('line', { class: 'axis', x1: scale.left, x2: scale.right, y1: y, y2: y, stroke: '#333333' })];
  for (const tick of ticks) {
    const x = scale.left + ((scale.right - scale.left) * tick) / scale.span;
    parts.push(element('line', { class: 'tick', x1: x, x2: x, y1: y, y2: y + 4, stroke: '#333333' }));
    parts.push(textElement('text', { class: 'tick-label', x, y: y + ROW_HEIGHT + 2, 'text-anchor': 'middle' }, (tick / 1000).toFixed(digits)));
  }
  const date = new Date(scale.start);
  // Small times are offsets in a test or a replay, not dates; 2000-01-01 is a safe divide.
  const origin = scale.start >= 946_684_800_000 && !Number.isNaN(date.getTime()) ? date.toISOString() : `${scale.start} ms`;
  parts.push(textElement('text', { class: 'axis-caption', x: scale.right, y: y + 2 * ROW_HEIGHT + 4, 'text-anchor': 'end', fill: '#555555' }, `seconds since t0 = ${origin}`));
  return parts;
}
