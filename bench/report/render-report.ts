// bench/results/report.html: every suite's JSON as tables, restore time vs state size as charts, handover timelines.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { escapeXml } from '../../src/report/timeline/escape-xml.ts';
import { renderTimelineSvg } from '../../src/report/timeline/index.ts';
import type { Timeline } from '../../src/report/timeline/types.ts';
import { lineChartSvg } from './line-chart.ts';

type Json = Record<string, unknown>;

const ORDER = ['throughput', 'checkpoint', 'backpressure', 'restore', 'handover', 'micro'];

/** Reads every `*.json` in `dir`, writes `report.html` next to them; returns its path. */
export function writeReport(dir: URL): URL {
  const results = new Map<string, Json>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    try {
      results.set(file.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Json);
    } catch {
      // A half-written or foreign file is left out of the report, not fatal.
    }
  }
  const target = new URL('report.html', dir);
  writeFileSync(target, renderReport(results));
  return target;
}

/** The whole HTML page (pure). */
export function renderReport(results: ReadonlyMap<string, Json>): string {
  const names = [...results.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const machine = [...results.values()].map((r) => r.machine).find((m) => m !== undefined);
  const sections = names.map((name) => section(name, results.get(name)!));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>baton benchmarks</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}
.met{color:#1a7f37;font-weight:bold}.missed{color:#cf222e;font-weight:bold}pre{background:#f7f7f7;padding:.5rem;overflow:auto;font-size:12px}
</style></head><body>
<h1>baton benchmarks</h1>
<p>Machine: ${escapeXml(JSON.stringify(machine ?? 'unknown'))}. Reproduce with <code>npm run bench</code> (<code>--quick</code> for a short run); every figure below comes from <code>bench/results/*.json</code> of the latest run of each suite.</p>
${sections.join('\n')}
</body></html>
`;
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
}

function section(name: string, r: Json): string {
  const head = `<h2>${escapeXml(name)}</h2><p>${escapeXml(String(r.setup ?? ''))}${r.quick ? ' <em>(quick run)</em>' : ''} — ${escapeXml(String(r.date ?? ''))}</p>`;
  const special = name === 'restore' ? restoreSection(r) : name === 'handover' ? handoverSection(r) : name === 'micro' ? microSection(r) : '';
  return `${head}${special}${flatTable(r, name === 'restore' ? ['rows', 'targets'] : name === 'handover' ? ['timelines', 'timelines_by_size', 'by_size'] : name === 'micro' ? ['tasks'] : [])}
<details><summary>raw JSON</summary><pre>${escapeXml(JSON.stringify(r, null, 2))}</pre></details>`;
}

/** Scalars and one level of nested scalars as a two-column table. */
function flatTable(r: Json, skip: readonly string[]): string {
  const rows: string[] = [];
  for (const [key, value] of Object.entries(r)) {
    if (skip.includes(key) || ['suite', 'setup', 'date', 'machine', 'quick'].includes(key)) continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Json)) if (isScalar(v)) rows.push(row(`${key}.${k}`, v));
    } else if (isScalar(value)) {
      rows.push(row(key, value));
    }
  }
  return rows.length === 0 ? '' : `<table><tr><th>figure</th><th>value</th></tr>${rows.join('')}</table>`;
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function row(key: string, value: string | number | boolean | null): string {
  const cls = typeof value === 'boolean' && /met|meets/.test(key) ? (value ? ' class="met"' : ' class="missed"') : '';
  return `<tr><td>${escapeXml(key)}</td><td${cls}>${escapeXml(formatValue(value))}</td></tr>`;
}

function formatValue(v: string | number | boolean | null): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 });
  return String(v);
}

function restoreSection(r: Json): string {
  const rows = (r.rows as Json[] | undefined) ?? [];
  const cols = ['storage', 'keys', 'full_ms', 'stage1_ms', 'stage2_ms', 'raw_lmdb_ms', 'full_entries_per_s', 'full_mb_per_s', 'stage2_over_full', 'full_over_raw_speed'];
  const table = `<table><tr>${cols.map((c) => `<th>${c}</th>`).join('')}</tr>${rows
    .map((x) => `<tr>${cols.map((c) => `<td>${escapeXml(formatValue((x[c] as number | string | undefined) ?? null))}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  const charts = [...new Set(rows.map((x) => String(x.storage)))].map((storage) => {
    const mine = rows.filter((x) => x.storage === storage);
    const series = (['full_ms', 'stage1_ms', 'stage2_ms', 'raw_lmdb_ms'] as const).map((key) => ({
      name: key.replace('_ms', ''),
      points: mine.filter((x) => typeof x[key] === 'number').map((x) => [Number(x.keys), Number(x[key])] as const),
    }));
    return lineChartSvg(series, { title: `restore time vs state size (${storage})`, xLabel: 'keys (log scale)', yLabel: 'ms', logX: true });
  });
  const targets = r.targets as Json | undefined;
  const verdicts = targets
    ? `<table><tr><th>target</th><th>met</th></tr>${Object.entries(targets)
        .map(([k, v]) => `<tr><td>${escapeXml(k)}</td><td class="${(v as Json).met ? 'met' : 'missed'}">${(v as Json).met ? 'met' : 'not met'}</td></tr>`)
        .join('')}</table>`
    : '';
  return `${table}${charts.join('')}${verdicts}`;
}

function handoverSection(r: Json): string {
  const timelines = (r.timelines as Record<string, { a: Array<{ status: string; at: number }>; b: Array<{ status: string; at: number }>; markers: Array<{ label: string; at: number; lane?: string }> }> | undefined) ?? {};
  const pictures = Object.entries(timelines).map(([scenario, t]) => {
    const lane = (l?: string) => (l === 'a' ? 'A (old)' : l === 'b' ? 'B (new)' : l);
    const timeline: Timeline = {
      lanes: [
        { name: 'A (old)', transitions: t.a },
        { name: 'B (new)', transitions: t.b },
      ],
      markers: t.markers.map((m) => ({ label: m.label, at: m.at, lane: lane(m.lane) })),
    };
    return `<h3>${escapeXml(scenario)}</h3>${renderTimelineSvg(timeline, { title: `${scenario}: A → B`, width: 1000 })}`;
  });
  return pictures.join('');
}

function microSection(r: Json): string {
  const tasks = (r.tasks as Json[] | undefined) ?? [];
  return `<table><tr><th>task</th><th>ops/s</th><th>ns/op</th><th>note</th></tr>${tasks
    .map((t) => `<tr><td>${escapeXml(String(t.name))}</td><td>${formatValue(Number(t.ops_per_sec))}</td><td>${formatValue(Number(t.mean_ns))}</td><td>${escapeXml(String(t.unit_note ?? ''))}</td></tr>`)
    .join('')}</table>`;
}
