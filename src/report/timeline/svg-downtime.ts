// The shaded band between A's last and B's first record: the downtime a handover is judged by.
import { downtimeText } from './downtime.ts';
import { element, textElement } from './svg-element.ts';
import type { LabelRequest } from './svg-labels.ts';
import type { DowntimeWindow, TimeScale } from './types.ts';

/** The band's label, centred over the band. */
export function downtimeLabel(window: DowntimeWindow, scale: TimeScale): LabelRequest {
  const x = (scale.x(window.lastA) + scale.x(window.firstB)) / 2;
  return { text: downtimeText(window), x, align: 'middle', class: 'downtime-label' };
}

/**
 * The band from `top` to `bottom` between the two records, at least 1 px wide so a downtime
 * too short for the scale still shows.
 *
 * @example svgDowntimeBand({ lastA: 10, firstB: 25 }, scale, 30, 110)
 */
export function svgDowntimeBand(window: DowntimeWindow, scale: TimeScale, top: number, bottom: number): string {
  const x1 = scale.x(Math.min(window.lastA, window.firstB));
  const x2 = scale.x(Math.max(window.lastA, window.firstB));
  return element(
    'rect',
    { class: 'downtime', x: x1, y: top, width: Math.max(1, x2 - x1), height: bottom - top, fill: '#d62728', 'fill-opacity': 0.18 },
    textElement('title', {}, `${downtimeText(window)} (A last record to B first record)`),
  );
}
