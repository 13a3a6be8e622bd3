// Vertical marker lines from their label down across the lanes, with a dot on the lane the event belongs to.
import { formatSeconds } from './format.ts';
import { element, textElement } from './svg-element.ts';
import { labelBaseline, type PlacedLabel } from './svg-labels.ts';
import { LANE_HEIGHT } from './svg-style.ts';
import type { TimelineMarker, TimeScale } from './types.ts';

/** Vertical extent of the marker area: label rows end at `labelsBottom`, lanes end at `lanesBottom`. */
export interface MarkerArea {
  readonly labelsBottom: number;
  readonly lanesBottom: number;
  /** Top y of the named lane, or undefined when there is no such lane. */
  readonly laneTopOf: (name: string) => number | undefined;
}

/**
 * One `<g class="marker">` per marker (tooltip, line, optional lane dot); `labels[i]` is the
 * placed label of `markers[i]`.
 *
 * @example svgMarkers(markers, labels, scale, area)
 */
export function svgMarkers(markers: readonly TimelineMarker[], labels: readonly PlacedLabel[], scale: TimeScale, area: MarkerArea): string[] {
  return markers.map((m, i) => {
    const x = scale.x(m.at);
    const lane = m.lane === undefined ? '' : ` (${m.lane})`;
    const title = textElement('title', {}, `${m.label}${lane} at ${formatSeconds(m.at - scale.start)} s`);
    const y1 = labelBaseline(labels[i].row, area.labelsBottom) + 3;
    const line = element('line', { class: 'marker', x1: x, x2: x, y1, y2: area.lanesBottom + 3, stroke: '#222222', 'stroke-dasharray': '3 2' });
    const top = m.lane === undefined ? undefined : area.laneTopOf(m.lane);
    const dot = top === undefined ? [] : [element('circle', { class: 'marker-dot', cx: x, cy: top + LANE_HEIGHT / 2, r: 3, fill: '#222222' })];
    return element('g', { class: 'marker-group' }, title, line, ...dot);
  });
}
