// The legend of status colours and the metrics table under the chart.
import { formatMetric } from './format.ts';
import { statusColor } from './status-colors.ts';
import { element, textElement } from './svg-element.ts';
import { CHAR_WIDTH, FONT_SIZE, PADDING, ROW_HEIGHT, textWidth } from './svg-style.ts';
import type { Timeline } from './types.ts';

/** SVG parts and the height they take. */
export interface Block {
  readonly parts: readonly string[];
  readonly height: number;
}

const SWATCH = 10;

/**
 * A swatch and name per status, flowing left to right and wrapping within `width`, from y = top.
 *
 * @example svgLegend(['RUNNING', 'FINISHED'], 960, 200)
 */
export function svgLegend(statuses: readonly string[], width: number, top: number): Block {
  const parts: string[] = [];
  let x = PADDING;
  let row = 0;
  for (const status of statuses) {
    const itemWidth = SWATCH + CHAR_WIDTH / 2 + textWidth(status) + 2 * CHAR_WIDTH;
    if (x > PADDING && x + itemWidth > width - PADDING) {
      x = PADDING;
      row++;
    }
    const y = top + row * (ROW_HEIGHT + 2);
    parts.push(element('rect', { class: 'legend-swatch', 'data-status': status, x, y, width: SWATCH, height: SWATCH, fill: statusColor(status) }));
    parts.push(textElement('text', { class: 'legend-label', x: x + SWATCH + CHAR_WIDTH / 2, y: y + SWATCH - 1 }, status));
    x += itemWidth;
  }
  return { parts, height: statuses.length === 0 ? 0 : (row + 1) * (ROW_HEIGHT + 2) };
}

/**
 * The metrics as two aligned columns (name, value) under a heading, from y = top; nothing
 * when there are none.
 *
 * @example svgMetrics({ downtimeMs: 120, targetReadyFirst: false }, 300)
 */
export function svgMetrics(metrics: Timeline['metrics'], top: number): Block {
  const entries = Object.entries(metrics ?? {});
  if (entries.length === 0) return { parts: [], height: 0 };
  const valueX = PADDING + Math.max(...entries.map(([key]) => textWidth(key))) + 2 * CHAR_WIDTH;
  const parts = [textElement('text', { class: 'metrics-heading', x: PADDING, y: top + FONT_SIZE, 'font-weight': 'bold' }, 'metrics')];
  entries.forEach(([key, value], i) => {
    const y = top + (i + 2) * ROW_HEIGHT - 3;
    parts.push(textElement('text', { class: 'metric-name', x: PADDING, y }, key));
    parts.push(textElement('text', { class: 'metric-value', x: valueX, y }, formatMetric(value)));
  });
  return { parts, height: (entries.length + 1) * ROW_HEIGHT + 4 };
}
