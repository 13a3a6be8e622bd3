// The handover timeline as a standalone SVG picture: lanes of statuses over a time axis, markers, downtime, metrics.
import { downtimeWindow } from './downtime.ts';
import { laneSegments, timeBounds } from './segments.ts';
import { legendOrder } from './status-colors.ts';
import { AXIS_HEIGHT, svgAxis } from './svg-axis.ts';
import { downtimeLabel, svgDowntimeBand } from './svg-downtime.ts';
import { element, textElement } from './svg-element.ts';
import { type LabelRequest, labelRowCount, placeLabels, svgLabels } from './svg-labels.ts';
import { laneTop, svgLanes } from './svg-lanes.ts';
import { svgLegend, svgMetrics } from './svg-legend.ts';
import { svgMarkers } from './svg-markers.ts';
import { FONT_FAMILY, FONT_SIZE, LANE_HEIGHT, PADDING, ROW_HEIGHT, TITLE_HEIGHT, textWidth } from './svg-style.ts';
import { timeScale } from './time-scale.ts';
import type { Timeline, TimelineSvgOptions } from './types.ts';

const DEFAULT_WIDTH = 960;
/** Below this the plot area would shrink to nothing beside the lane names. */
const MIN_WIDTH = 320;

function checkWidth(width: number): number {
  if (!Number.isFinite(width) || width < MIN_WIDTH) throw new RangeError(`renderTimelineSvg: options.width must be a number >= ${MIN_WIDTH}, got ${width}`);
  return width;
}

/** Width of the lane-name column: the longest name, but never more than a third of the picture. */
function nameColumnWidth(names: readonly string[], width: number): number {
  const longest = names.reduce((max, name) => Math.max(max, textWidth(name)), 0);
  return Math.min(Math.max(longest, 6 * ROW_HEIGHT), width / 3 - 2 * PADDING);
}

/**
 * Renders a handover timeline as a standalone SVG document (pure; write it to a `.svg` file or
 * embed it in HTML). Above a time axis in seconds since the earliest event: one lane per
 * deployment with a rectangle per status (a fixed colour per status, a hover tooltip with its
 * duration), dashed marker lines with labels spread over rows so none overlap, and a shaded band
 * for the downtime when markers 'A last record' and 'B first record' are both present. Below: a
 * legend of the statuses shown and the metrics. All text is escaped.
 *
 * Throws a RangeError for a width under 320 px or a time that is not a finite number.
 *
 * @example
 * const svg = renderTimelineSvg(
 *   {
 *     lanes: [
 *       { name: 'A (blue)', transitions: [{ status: 'RUNNING', at: t0 }, { status: 'FINISHED', at: t0 + 9000 }] },
 *       { name: 'B (green)', transitions: [{ status: 'RESTORING', at: t0 + 1000 }, { status: 'RUNNING', at: t0 + 9120 }] },
 *     ],
 *     markers: [{ label: 'A last record', at: t0 + 9000, lane: 'A (blue)' }, { label: 'B first record', at: t0 + 9120, lane: 'B (green)' }],
 *     metrics: { downtimeMs: 120 },
 *   },
 *   { title: 'orders: blue → green' },
 * );
 * writeFileSync('handover.svg', svg);
 */
export function renderTimelineSvg(timeline: Timeline, options: TimelineSvgOptions = {}): string {
  const width = checkWidth(options.width ?? DEFAULT_WIDTH);
  const bounds = timeBounds(timeline);
  const lanes = timeline.lanes.map((lane) => ({ name: lane.name, segments: laneSegments(lane, bounds.end) }));
  const nameWidth = nameColumnWidth(lanes.map((l) => l.name), width);
  const scale = timeScale(bounds, PADDING + nameWidth + PADDING, width - PADDING);
  const downtime = downtimeWindow(timeline.markers);

  const requests: LabelRequest[] = timeline.markers.map((m) => ({ text: m.label, x: scale.x(m.at), align: 'start', class: 'marker-label' }));
  if (downtime !== undefined) requests.push(downtimeLabel(downtime, scale));
  const labels = placeLabels(requests, width);

  // Top to bottom: title, label rows, lanes, axis, legend, metrics.
  const titleHeight = options.title === undefined ? 0 : TITLE_HEIGHT;
  const labelsBottom = PADDING + titleHeight + labelRowCount(labels) * ROW_HEIGHT;
  const lanesTop = labelsBottom + 4;
  // With no lanes, keep one lane's height so markers and the axis still have room.
  const lanesBottom = lanes.length === 0 ? lanesTop + LANE_HEIGHT : laneTop(lanesTop, lanes.length - 1) + LANE_HEIGHT;
  const axisY = lanesBottom + 6;
  const legend = svgLegend(legendOrder(lanes.flatMap((l) => l.segments.map((s) => s.status))), width, axisY + AXIS_HEIGHT);
  const metricsTop = axisY + AXIS_HEIGHT + legend.height + (legend.height > 0 ? 6 : 0);
  const metrics = svgMetrics(timeline.metrics, metricsTop);
  const height = metricsTop + metrics.height + PADDING;

  const laneTops = new Map(lanes.map((l, i) => [l.name, laneTop(lanesTop, i)]));
  const body = [
    element('rect', { class: 'background', x: 0, y: 0, width, height, fill: '#ffffff' }),
    ...(options.title === undefined ? [] : [textElement('text', { class: 'title', x: PADDING, y: PADDING + FONT_SIZE + 4, 'font-size': FONT_SIZE + 3, 'font-weight': 'bold' }, options.title)]),
    ...svgLanes(lanes, scale, lanesTop, nameWidth),
    ...(downtime === undefined ? [] : [svgDowntimeBand(downtime, scale, lanesTop - 2, lanesBottom + 2)]),
    ...svgMarkers(timeline.markers, labels, scale, { labelsBottom, lanesBottom, laneTopOf: (name) => laneTops.get(name) }),
    ...svgAxis(scale, axisY),
    // Labels last, so they sit above the lines that cross them.
    ...svgLabels(labels, labelsBottom),
    ...legend.parts,
    ...metrics.parts,
  ];
  const root = {
    xmlns: 'http://www.w3.org/2000/svg',
    width,
    height,
    viewBox: `0 0 ${width} ${Math.round(height * 100) / 100}`,
    'font-family': FONT_FAMILY,
    'font-size': FONT_SIZE,
    role: 'img',
  };
  const docTitle = options.title === undefined ? [] : [textElement('title', {}, options.title)];
  return `${element('svg', root, '\n', ...[...docTitle, ...body].map((part) => `${part}\n`))}\n`;
}
