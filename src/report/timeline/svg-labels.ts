// Labels above the lanes (markers, the downtime band), spread over rows so none prints over another.
import { staggerRows } from './stagger.ts';
import { textElement } from './svg-element.ts';
import { CHAR_WIDTH, PADDING, ROW_HEIGHT, textWidth } from './svg-style.ts';

/** A label wanted at x: beside it (`start`) or centred on it (`middle`). */
export interface LabelRequest {
  readonly text: string;
  readonly x: number;
  readonly align: 'start' | 'middle';
  readonly class: string;
}

/** A label with its left edge and row (0 = the row just above the lanes). */
export interface PlacedLabel extends LabelRequest {
  readonly left: number;
  readonly row: number;
}

/** Left edge of a label kept inside [PADDING, width - PADDING] where it can be. */
function leftEdge(request: LabelRequest, width: number): number {
  const w = textWidth(request.text);
  if (request.align === 'middle') return Math.max(PADDING, Math.min(request.x - w / 2, width - PADDING - w));
  // Beside the line, on its right, unless that runs off the picture: then on its left.
  const right = request.x + CHAR_WIDTH / 2;
  return right + w <= width - PADDING ? right : Math.max(PADDING, request.x - CHAR_WIDTH / 2 - w);
}

/**
 * Where each label goes in a picture `width` px wide (same order as given).
 *
 * @example placeLabels([{ text: 'chk-5', x: 100, align: 'start', class: 'marker-label' }], 960)[0].row // 0
 */
export function placeLabels(requests: readonly LabelRequest[], width: number): PlacedLabel[] {
  const lefts = requests.map((r) => leftEdge(r, width));
  const rows = staggerRows(lefts.map((left, i) => ({ left, right: left + textWidth(requests[i].text) })), CHAR_WIDTH);
  return requests.map((r, i) => ({ ...r, left: lefts[i], row: rows[i] }));
}

/** Number of label rows the placed labels use. */
export function labelRowCount(labels: readonly PlacedLabel[]): number {
  return labels.reduce((max, l) => Math.max(max, l.row + 1), 0);
}

/** Baseline y of a label row, rows counted upwards from the label area's `bottom`. */
export function labelBaseline(row: number, bottom: number): number {
  return bottom - row * ROW_HEIGHT - 4;
}

/**
 * The labels as text, rows counted upwards from `bottom`. A white halo keeps a label readable
 * where another marker's line passes behind it.
 */
export function svgLabels(labels: readonly PlacedLabel[], bottom: number): string[] {
  return labels.map((l) =>
    textElement(
      'text',
      { class: l.class, x: l.left, y: labelBaseline(l.row, bottom), stroke: '#ffffff', 'stroke-width': 3, 'paint-order': 'stroke', fill: '#222222' },
      l.text,
    ),
  );
}
