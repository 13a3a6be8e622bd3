// bench/report: the HTML report renders every suite's JSON, restore charts and handover timelines.
import { describe, expect, it } from 'vitest';
import { lineChartSvg } from '../../bench/report/line-chart.ts';
import { renderReport } from '../../bench/report/render-report.ts';

describe('lineChartSvg', () => {
  it('plots every point, in order of x, on round y ticks, with a title', () => {
    const svg = lineChartSvg([{ name: 'full', points: [[1_000_000, 2_250], [100_000, 212]] }], { title: 'restore <time>', xLabel: 'keys', yLabel: 'ms', logX: true });
    expect(svg).toContain('<title>restore &lt;time&gt;</title>');
    expect(svg.match(/<circle /g)).toHaveLength(2);
    // 2 250 / 4 → a step of 1 000: ticks 0, 1000, 2000, 3000, 4000.
    for (const tick of ['>0<', '>1000<', '>2000<', '>3000<', '>4000<']) expect(svg).toContain(tick);
    const [first, second] = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(first).toBeLessThan(second);
  });
});

describe('renderReport', () => {
  it('has a section per suite, restore charts per storage, target verdicts and the handover timelines', () => {
    const t0 = 1_700_000_000_000;
    const html = renderReport(
      new Map<string, Record<string, unknown>>([
        ['micro', { suite: 'micro', tasks: [{ name: 'keygroup_numbers', ops_per_sec: 8e7, mean_ns: 12, unit_note: 'keys/s' }] }],
        [
          'restore',
          {
            rows: [
              { storage: 'file', keys: 100_000, full_ms: 212, stage1_ms: 192, stage2_ms: 6.8, raw_lmdb_ms: 140 },
              { storage: 's3', keys: 100_000, full_ms: 278, stage1_ms: 240, stage2_ms: 20.6, raw_lmdb_ms: 140 },
            ],
            targets: { stage2_at_most_1_30th_of_full: { met: false } },
          },
        ],
        [
          'handover',
          {
            naive_downtime_ms: 5131,
            handover_downtime_ms: 48,
            timelines: {
              handover: {
                a: [{ status: 'RUNNING', at: t0 }, { status: 'SUSPENDED', at: t0 + 1000 }],
                b: [{ status: 'WAITING_FOR_START_SIGNAL', at: t0 }, { status: 'RUNNING', at: t0 + 1050 }],
                markers: [{ label: 'A last record', at: t0 + 990, lane: 'a' }, { label: 'B first record', at: t0 + 1040, lane: 'b' }],
              },
            },
          },
        ],
      ]),
    );
    expect(html.indexOf('<h2>restore</h2>')).toBeLessThan(html.indexOf('<h2>handover</h2>'));
    expect(html.indexOf('<h2>handover</h2>')).toBeLessThan(html.indexOf('<h2>micro</h2>'));
    expect(html).toContain('restore time vs state size (file)');
    expect(html).toContain('restore time vs state size (s3)');
    expect(html).toContain('class="missed">not met');
    expect(html).toContain('WAITING_FOR_START_SIGNAL');
    expect(html).toContain('keygroup_numbers');
    expect(html).toMatch(/naive_downtime_ms<\/td><td>5,131/);
  });
});
