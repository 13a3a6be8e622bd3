// Text output of the CLI: counters tables and durations.
import type { JobResult } from '../runtime/index.ts';

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatOperatorsTable(operators: JobResult['operators']): string {
  // A column for late records dropped only when the job has an event-time window (the only operators counting them).
  const late = Object.values(operators).some((o) => o.lateRecordsDropped !== undefined);
  const rows = Object.values(operators).map((o) => [
    o.uid,
    o.type,
    String(o.parallelism),
    formatCount(o.recordsIn),
    formatCount(o.recordsOut),
    ...(late ? [o.lateRecordsDropped === undefined ? '' : formatCount(o.lateRecordsDropped)] : []),
  ]);
  const header = ['operator', 'type', 'par', 'records in', 'records out', ...(late ? ['late dropped'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** One line per operator whose functions registered counters (`ctx.metrics.counter`), e.g. `filter-bots: bots 4,653, humans 45,347`. */
export function formatCounters(operators: JobResult['operators']): string[] {
  const lines: string[] = [];
  for (const o of Object.values(operators)) {
    if (!o.counters) continue;
    lines.push(`counters of ${o.uid}: ${Object.entries(o.counters).map(([name, n]) => `${name} ${formatCount(n)}`).join(', ')}`);
  }
  return lines;
}
