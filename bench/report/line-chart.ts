// A small SVG line chart (pure): series of (x, y) points, optional log-scale x axis, a legend.
import { escapeXml } from '../../src/report/timeline/escape-xml.ts';

export interface LineSeries {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logX?: boolean;
  readonly width?: number;
  readonly height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Renders `series` as a standalone SVG. @example lineChartSvg([{ name: 'full', points: [[1e5, 120]] }], { title: 't', xLabel: 'keys', yLabel: 'ms' }) */
export function lineChartSvg(series: readonly LineSeries[], options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 320;
  const pad = { left: 64, right: 160, top: 36, bottom: 44 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40" role="img"><title>${escapeXml(options.title)}</title><text x="8" y="24">${escapeXml(options.title)}: no data</text></svg>`;
  const fx = (x: number) => (options.logX ? Math.log10(Math.max(x, 1e-9)) : x);
  const xs = all.map(([x]) => fx(x));
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs) === minX ? minX + 1 : Math.max(...xs);
  // Four round steps (1, 2 or 5 × 10^k) that cover the largest value.
  const yStep = niceStep(Math.max(...all.map(([, y]) => y), 1) / 4);
  const maxY = yStep * 4;
  const px = (x: number) => pad.left + ((fx(x) - minX) / (maxX - minX)) * (width - pad.left - pad.right);
  const py = (y: number) => height - pad.bottom - (y / maxY) * (height - pad.top - pad.bottom);
  const parts: string[] = [];
  parts.push(`<text x="${pad.left}" y="20" font-weight="bold">${escapeXml(options.title)}</text>`);
  parts.push(`<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#333"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = (maxY / 4) * i;
    parts.push(`<text x="${pad.left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${escapeXml(formatNumber(y))}</text>`);
    parts.push(`<line x1="${pad.left}" y1="${py(y)}" x2="${width - pad.right}" y2="${py(y)}" stroke="#eee"/>`);
  }
  for (const x of [...new Set(all.map(([x]) => x))].sort((a, b) => a - b)) {
    parts.push(`<text x="${px(x)}" y="${height - pad.bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(formatNumber(x))}</text>`);
  }
  parts.push(`<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text x="14" y="${(pad.top + height - pad.bottom) / 2}" font-size="12" transform="rotate(-90 14 ${(pad.top + height - pad.bottom) / 2})" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${sorted.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of sorted) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"><title>${escapeXml(`${s.name}: ${formatNumber(y)} at ${formatNumber(x)}`)}</title></circle>`);
    const ly = pad.top + 14 + i * 16;
    parts.push(`<rect x="${width - pad.right + 12}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${width - pad.right + 28}" y="${ly}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" role="img"><title>${escapeXml(options.title)}</title>${parts.join('')}</svg>`;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function formatNumber(n: number): string {
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(n % 1e6 === 0 ? 0 : 1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(n % 1e3 === 0 ? 0 : 1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
