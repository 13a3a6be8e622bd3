// One horizontal band per deployment, a coloured rectangle per status, each with a hover tooltip.
import { formatMs, formatSeconds } from './format.ts';
import { statusColor, textColorOn } from './status-colors.ts';
import { element, textElement } from './svg-element.ts';
import { CHAR_WIDTH, FONT_SIZE, fitText, LANE_GAP, LANE_HEIGHT, PADDING, textWidth } from './svg-style.ts';
import type { Segment, TimeScale } from './types.ts';

/** A lane ready to draw: its name and resolved segments. */
export interface LaneRows {
  readonly name: string;
  readonly segments: readonly Segment[];
}

/** Top y of lane i when lanes start at `top`. */
export function laneTop(top: number, i: number): number {
  return top + i * (LANE_HEIGHT + LANE_GAP);
}

/** Tooltip of a segment: lane, status, duration, and where it sits on the axis. */
function segmentTitle(lane: string, s: Segment, scale: TimeScale): string {
  const from = formatSeconds(s.start - scale.start);
  const to = formatSeconds(s.end - scale.start);
  return `${lane}: ${s.status}, ${formatMs(s.end - s.start)} ms (${from} s to ${to} s)`;
}

function segment(lane: string, s: Segment, scale: TimeScale, y: number): string {
  const x = scale.x(s.start);
  // A zero-length status (e.g. WAITING_FOR_START_SIGNAL without a handover) must stay visible.
  const width = Math.max(1, scale.x(s.end) - x);
  const fill = statusColor(s.status);
  const rect = element(
    'rect',
    { class: 'segment', 'data-lane': lane, 'data-status': s.status, x, y, width, height: LANE_HEIGHT, fill },
    textElement('title', {}, segmentTitle(lane, s, scale)),
  );
  // Name the status inside its rectangle only where it fits; the legend and tooltip cover the rest.
  if (width < textWidth(s.status) + 2 * CHAR_WIDTH) return rect;
  const label = textElement(
    'text',
    { class: 'segment-label', x: x + CHAR_WIDTH / 2, y: y + LANE_HEIGHT / 2 + FONT_SIZE / 3, fill: textColorOn(fill), 'pointer-events': 'none' },
    s.status,
  );
  return rect + label;
}

/**
 * The lanes' backgrounds, names (cut to `nameWidth` px, full name on hover) and segments,
 * the first lane at y = `top`.
 *
 * @example svgLanes([{ name: 'A', segments }], scale, 40, 80)
 */
export function svgLanes(lanes: readonly LaneRows[], scale: TimeScale, top: number, nameWidth: number): string[] {
  return lanes.flatMap((lane, i) => {
    const y = laneTop(top, i);
    const shown = fitText(lane.name, nameWidth);
    const nameAttrs = { class: 'lane-name', x: PADDING, y: y + LANE_HEIGHT / 2 + FONT_SIZE / 3 };
    const name =
      shown === lane.name
        ? textElement('text', nameAttrs, shown)
        : element('text', nameAttrs, textElement('title', {}, lane.name), textElement('tspan', {}, shown));
    const background = element('rect', { class: 'lane', x: scale.left, y, width: scale.right - scale.left, height: LANE_HEIGHT, fill: '#f4f4f4' });
    return [background, name, ...lane.segments.map((s) => segment(lane.name, s, scale, y))];
  });
}
