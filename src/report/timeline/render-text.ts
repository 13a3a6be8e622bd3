// The handover timeline as plain monospace text for a terminal or a log.
import { asciiBar } from './ascii-bar.ts';
import { downtimeText, downtimeWindow } from './downtime.ts';
import { formatMetric, formatMs, formatSeconds } from './format.ts';
import { laneSegments, timeBounds } from './segments.ts';
import { textTable } from './text-table.ts';
import type { Timeline, TimelineLane } from './types.ts';

/** Columns of the bar chart beside each lane's table. */
const CHART_COLUMNS = 40;

function laneLines(lane: TimelineLane, start: number, end: number): string[] {
  const segments = laneSegments(lane, end);
  if (segments.length === 0) return [lane.name, '  (no transitions)'];
  const span = end - start;
  const rows = segments.map((s) => [s.status, formatSeconds(s.start - start), formatMs(s.end - s.start), asciiBar(s.start - start, s.end - start, span, CHART_COLUMNS)]);
  return [lane.name, ...textTable([['status', 'start (s)', 'duration (ms)', ''], ...rows], [false, true, true, false]).map((line) => `  ${line}`)];
}

function markerLines(timeline: Timeline, start: number): string[] {
  if (timeline.markers.length === 0) return [];
  // Stable sort: markers at the same time keep the order they were given in.
  const sorted = [...timeline.markers].sort((a, b) => a.at - b.at);
  const rows = sorted.map((m) => [formatSeconds(m.at - start), m.lane ?? '', m.label]);
  const lines = ['markers', ...textTable([['at (s)', 'lane', 'label'], ...rows], [true, false, false]).map((line) => `  ${line}`)];
  const downtime = downtimeWindow(timeline.markers);
  if (downtime !== undefined) lines.push(`  ${downtimeText(downtime)} (A last record to B first record)`);
  return lines;
}

function metricLines(timeline: Timeline): string[] {
  const entries = Object.entries(timeline.metrics ?? {});
  if (entries.length === 0) return [];
  return ['metrics', ...textTable(entries.map(([key, value]) => [key, formatMetric(value)])).map((line) => `  ${line}`)];
}

/**
 * Renders a handover timeline as text: per lane, a table of its statuses in time order with
 * start (seconds since the earliest event), duration (ms) and a bar showing where it falls;
 * then the markers in time order with the downtime; then the metrics. Sections are separated
 * by a blank line; the output ends with a newline.
 *
 * Throws a RangeError naming the lane or marker whose time is not a finite number.
 *
 * @example
 * const lanes = [{ name: 'A (blue)', transitions: [{ status: 'RUNNING', at: 0 }, { status: 'FINISHED', at: 3000 }], endAt: 4000 }];
 * process.stdout.write(renderTimelineText({ lanes, markers: [{ label: 'A last record', at: 3000 }] }));
 * // handover timeline: 4.000 s from t0 = 0 (epoch ms)
 * //
 * // A (blue)
 * //   status    start (s)  duration (ms)
 * //   RUNNING       0.000           3000  ##############################..........
 * //   FINISHED      3.000           1000  ..............................##########
 * //
 * // markers
 * //   at (s)  lane  label
 * //    3.000        A last record
 */
export function renderTimelineText(timeline: Timeline): string {
  const { start, end } = timeBounds(timeline);
  const sections = [
    [`handover timeline: ${formatSeconds(end - start)} s from t0 = ${start} (epoch ms)`],
    ...timeline.lanes.map((lane) => laneLines(lane, start, end)),
    markerLines(timeline, start),
    metricLines(timeline),
  ].filter((lines) => lines.length > 0);
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
