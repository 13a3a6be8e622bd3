// The handover timeline renderers: a well-formed SVG whose geometry follows the times, and a text table.
import { describe, expect, it } from 'vitest';
import { escapeXml } from '../../src/report/timeline/escape-xml.ts';
import { renderTimelineSvg, renderTimelineText, type Timeline } from '../../src/report/timeline/index.ts';
import { niceTicks } from '../../src/report/timeline/nice-ticks.ts';
import { staggerRows } from '../../src/report/timeline/stagger.ts';

// --- a tiny XML reader: enough to check balance and read attributes, no dependency ---

interface Tag {
  readonly name: string;
  readonly attrs: Record<string, string>;
  /** Escaped text right after the tag up to the next tag. */
  readonly text: string;
}

const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function unescapeXml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(ENTITY, (_, e: string) => named[e] ?? String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))));
}

/** Opening tags in document order; throws unless every tag is closed in order and no raw `<`, `>` or `&` is left in text. */
function parseSvg(svg: string): Tag[] {
  const stack: string[] = [];
  const tags: Tag[] = [];
  let roots = 0;
  for (const m of svg.matchAll(TAG)) {
    const [, closing, name, attrText, selfClosing] = m;
    const end = m.index + m[0].length;
    const next = svg.indexOf('<', end);
    const text = svg.slice(end, next === -1 ? svg.length : next);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    if (stack.length === 0) roots++;
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:.-]+)="([^"]*)"/g)) attrs[a[1]] = unescapeXml(a[2]);
    tags.push({ name, attrs, text });
    if (!selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  const rest = svg.replace(TAG, '').replace(ENTITY, '');
  if (/[<>&]/.test(rest)) throw new Error(`raw markup character left in text: ${rest.match(/.{0,20}[<>&].{0,20}/)?.[0]}`);
  return tags;
}

const ofClass = (tags: Tag[], cls: string) => tags.filter((t) => t.attrs.class === cls);
const num = (t: Tag, attr: string) => Number(t.attrs[attr]);

/** Segment rects with the tooltip that follows each. */
function segmentsWithTitles(svg: string): { attrs: Record<string, string>; title: string }[] {
  return [...svg.matchAll(/<rect class="segment"([^>]*)><title>([^<]*)<\/title><\/rect>/g)].map((m) => ({
    attrs: Object.fromEntries([...m[1].matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => [a[1], unescapeXml(a[2])])),
    title: unescapeXml(m[2]),
  }));
}

// --- fixtures ---

const T0 = 1_700_000_000_000;

function handover(markers: Timeline['markers'] = []): Timeline {
  return {
    lanes: [
      { name: 'A (blue)', transitions: [{ status: 'RUNNING', at: T0 }, { status: 'FINISHED', at: T0 + 3000 }], endAt: T0 + 4000 },
      {
        name: 'B (green)',
        transitions: [
          { status: 'RESTORING', at: T0 + 1000 },
          { status: 'WAITING_FOR_START_SIGNAL', at: T0 + 2000 },
          { status: 'RUNNING', at: T0 + 3200 },
        ],
      },
    ],
    markers,
    metrics: { downtimeMs: 200, targetReadyBeforeJob: false, stage2Ms: 12.5 },
  };
}

const DOWNTIME_MARKERS = [
  { label: 'A last record', at: T0 + 3000, lane: 'A (blue)' },
  { label: 'B first record', at: T0 + 3200, lane: 'B (green)' },
];

describe('renderTimelineSvg', () => {
  it('is a standalone, balanced SVG document', () => {
    const svg = renderTimelineSvg(handover(DOWNTIME_MARKERS), { title: 'orders' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const tags = parseSvg(svg);
    const root = tags[0];
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(root.attrs.viewBox).toBe(`0 0 960 ${root.attrs.height}`);
    expect(root.attrs.width).toBe('960');
    expect(tags[1]).toMatchObject({ name: 'title', text: 'orders' });
    expect(renderTimelineSvg(handover(), { width: 500 })).toMatch(/^<svg[^>]* width="500"[^>]* viewBox="0 0 500 /);
  });

  it('detects unbalanced markup (the checker itself works)', () => {
    expect(() => parseSvg('<svg><g></svg>')).toThrow();
    expect(() => parseSvg('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => parseSvg('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => parseSvg('<svg/><svg/>')).toThrow();
  });

  it('draws one rect per segment, as wide as its duration, side by side', () => {
    const tags = parseSvg(renderTimelineSvg(handover()));
    const rects = ofClass(tags, 'segment');
    expect(rects.map((r) => `${r.attrs['data-lane']}:${r.attrs['data-status']}`)).toEqual([
      'A (blue):RUNNING',
      'A (blue):FINISHED',
      'B (green):RESTORING',
      'B (green):WAITING_FOR_START_SIGNAL',
      'B (green):RUNNING',
    ]);
    const [aRunning, aFinished, bRestoring, bWaiting, bRunning] = rects;
    // 3 s vs 1 s; 1.2 s vs 1 s; B's RUNNING lasts to the timeline's end (0.8 s).
    expect(num(aRunning, 'width') / num(aFinished, 'width')).toBeCloseTo(3, 2);
    expect(num(bWaiting, 'width') / num(bRestoring, 'width')).toBeCloseTo(1.2, 2);
    expect(num(bRunning, 'width') / num(bRestoring, 'width')).toBeCloseTo(0.8, 2);
    expect(num(aRunning, 'x') + num(aRunning, 'width')).toBeCloseTo(num(aFinished, 'x'), 1);
    expect(num(bRestoring, 'x') + num(bRestoring, 'width')).toBeCloseTo(num(bWaiting, 'x'), 1);
    // B starts 1 s after A: a quarter of the 4 s timeline.
    expect(num(bRestoring, 'x') - num(aRunning, 'x')).toBeCloseTo(num(aRunning, 'width') / 3, 1);
    // One lane per deployment, each segment inside its lane's row.
    const lanes = ofClass(tags, 'lane');
    expect(lanes).toHaveLength(2);
    expect(num(aRunning, 'y')).toBe(num(lanes[0], 'y'));
    expect(num(bRunning, 'y')).toBe(num(lanes[1], 'y'));
    expect(num(aFinished, 'x') + num(aFinished, 'width')).toBeCloseTo(num(lanes[0], 'x') + num(lanes[0], 'width'), 1);
  });

  it('gives every segment a tooltip with its status and duration', () => {
    const segments = segmentsWithTitles(renderTimelineSvg(handover()));
    expect(segments).toHaveLength(5);
    expect(segments[0].title).toContain('RUNNING');
    expect(segments[0].title).toContain('3000 ms');
    expect(segments[3].title).toContain('WAITING_FOR_START_SIGNAL');
    expect(segments[3].title).toContain('1200 ms');
  });

  it('keeps zero-length segments visible at 1 px', () => {
    const timeline: Timeline = {
      lanes: [
        {
          name: 'B',
          transitions: [
            { status: 'RESTORING', at: 0 },
            { status: 'WAITING_FOR_START_SIGNAL', at: 1000 },
            { status: 'RUNNING', at: 1000 },
          ],
          endAt: 2000,
        },
      ],
      markers: [],
    };
    const segments = segmentsWithTitles(renderTimelineSvg(timeline));
    expect(segments.map((s) => s.attrs['data-status'])).toEqual(['RESTORING', 'WAITING_FOR_START_SIGNAL', 'RUNNING']);
    expect(Number(segments[1].attrs.width)).toBe(1);
    expect(segments[1].title).toContain('0 ms');
    expect(Number(segments[0].attrs.width)).toBeGreaterThan(100);
  });

  it('ends a lane at its endAt, and one without at the timeline’s last time', () => {
    const timeline: Timeline = {
      lanes: [
        { name: 'A', transitions: [{ status: 'RUNNING', at: 0 }, { status: 'FINISHED', at: 1000 }], endAt: 2000 },
        { name: 'B', transitions: [{ status: 'RUNNING', at: 0 }] },
      ],
      markers: [{ label: 'late', at: 4000 }],
    };
    const [aRunning, aFinished, bRunning] = segmentsWithTitles(renderTimelineSvg(timeline)).map((s) => Number(s.attrs.width));
    expect(aFinished / aRunning).toBeCloseTo(1, 2);
    expect(bRunning / aRunning).toBeCloseTo(4, 2);
  });

  it('sorts transitions reported out of order', () => {
    const timeline: Timeline = {
      lanes: [{ name: 'A', transitions: [{ status: 'RUNNING', at: 1000 }, { status: 'CREATED', at: 0 }], endAt: 4000 }],
      markers: [],
    };
    const rects = ofClass(parseSvg(renderTimelineSvg(timeline)), 'segment');
    expect(rects.map((r) => r.attrs['data-status'])).toEqual(['CREATED', 'RUNNING']);
    expect(num(rects[1], 'width') / num(rects[0], 'width')).toBeCloseTo(3, 2);
  });

  it('puts marker lines at their time on the same scale as the segments', () => {
    const markers = [
      { label: 'chk-5 COMPLETED', at: T0 + 1500 },
      { label: 'start', at: T0 },
      { label: 'A stops', at: T0 + 3000, lane: 'A (blue)' },
      { label: 'end', at: T0 + 4000 },
    ];
    const tags = parseSvg(renderTimelineSvg(handover(markers)));
    const [aRunning, aFinished] = ofClass(tags, 'segment');
    const left = num(aRunning, 'x');
    const pxPerMs = num(aRunning, 'width') / 3000;
    const lines = ofClass(tags, 'marker');
    expect(lines).toHaveLength(4);
    for (const [i, m] of markers.entries()) {
      expect(num(lines[i], 'x1'), m.label).toBeCloseTo(left + (m.at - T0) * pxPerMs, 1);
      expect(lines[i].attrs.x2).toBe(lines[i].attrs.x1);
    }
    expect(num(lines[2], 'x1')).toBeCloseTo(num(aFinished, 'x'), 1);
    // The line crosses the lanes; the marker with a lane gets a dot on that lane.
    const lanes = ofClass(tags, 'lane');
    expect(num(lines[0], 'y2')).toBeGreaterThan(num(lanes[1], 'y') + num(lanes[1], 'height'));
    const dots = ofClass(tags, 'marker-dot');
    expect(dots).toHaveLength(1);
    expect(num(dots[0], 'cy')).toBeGreaterThan(num(lanes[0], 'y'));
    expect(num(dots[0], 'cy')).toBeLessThan(num(lanes[0], 'y') + num(lanes[0], 'height'));
    expect(ofClass(tags, 'marker-label').map((t) => t.text)).toEqual(markers.map((m) => m.label));
  });

  it('staggers labels that would overlap and keeps apart ones on one row', () => {
    const markers = [
      { label: 'chk-116 COMPLETED', at: T0 + 1000 },
      { label: 'chk-117 COMPLETED', at: T0 + 1010 },
      { label: 'x', at: T0 + 3900 },
    ];
    const labels = ofClass(parseSvg(renderTimelineSvg(handover(markers))), 'marker-label');
    expect(labels[0].attrs.y).not.toBe(labels[1].attrs.y);
    expect(labels[2].attrs.y).toBe(labels[0].attrs.y);
    expect(staggerRows([{ left: 0, right: 50 }, { left: 40, right: 90 }, { left: 100, right: 120 }])).toEqual([0, 1, 0]);
    expect(staggerRows([{ left: 100, right: 150 }, { left: 0, right: 120 }])).toEqual([1, 0]);
  });

  it('shades the downtime only when both A last record and B first record are marked', () => {
    const both = parseSvg(renderTimelineSvg(handover(DOWNTIME_MARKERS)));
    const bands = ofClass(both, 'downtime');
    expect(bands).toHaveLength(1);
    const [aLast, bFirst] = ofClass(both, 'marker');
    expect(num(bands[0], 'x')).toBeCloseTo(num(aLast, 'x1'), 1);
    expect(num(bands[0], 'x') + num(bands[0], 'width')).toBeCloseTo(num(bFirst, 'x1'), 1);
    expect(ofClass(both, 'downtime-label').map((t) => t.text)).toEqual(['downtime 200 ms']);

    for (const markers of [[DOWNTIME_MARKERS[0]], [DOWNTIME_MARKERS[1]], []]) {
      const tags = parseSvg(renderTimelineSvg(handover(markers)));
      expect(ofClass(tags, 'downtime')).toEqual([]);
      expect(ofClass(tags, 'downtime-label')).toEqual([]);
    }
  });

  it('escapes lane names, statuses, labels, metrics and the title', () => {
    const nasty = `<A & "B" 'C'>`;
    const timeline: Timeline = {
      lanes: [{ name: nasty, transitions: [{ status: `S<&>"'`, at: 0 }], endAt: 1000 }],
      markers: [{ label: `</text><script>alert(1)</script>`, at: 500, lane: nasty }],
      metrics: { 'k<&>': `v"'<` },
    };
    const svg = renderTimelineSvg(timeline, { title: `t & <t>` });
    expect(svg).not.toContain(nasty);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;A &amp; &quot;B&quot; &apos;C&apos;&gt;');
    const tags = parseSvg(svg);
    expect(ofClass(tags, 'segment')[0].attrs['data-lane']).toBe(nasty);
    expect(ofClass(tags, 'lane-name').map((t) => unescapeXml(t.text))).toEqual([nasty]);
    expect(ofClass(tags, 'marker-label').map((t) => unescapeXml(t.text))).toEqual([`</text><script>alert(1)</script>`]);
    expect(ofClass(tags, 'metric-name').map((t) => unescapeXml(t.text))).toEqual(['k<&>']);
    expect(ofClass(tags, 'metric-value').map((t) => unescapeXml(t.text))).toEqual([`v"'<`]);
  });

  it('has a legend entry per status shown and the metrics as lines', () => {
    const tags = parseSvg(renderTimelineSvg(handover()));
    expect(ofClass(tags, 'legend-swatch').map((t) => t.attrs['data-status'])).toEqual(['RESTORING', 'WAITING_FOR_START_SIGNAL', 'RUNNING', 'FINISHED']);
    // A status keeps its colour wherever it appears.
    const fills = new Map<string, string>();
    for (const t of [...ofClass(tags, 'segment'), ...ofClass(tags, 'legend-swatch')]) {
      const known = fills.get(t.attrs['data-status']);
      if (known !== undefined) expect(t.attrs.fill).toBe(known);
      fills.set(t.attrs['data-status'], t.attrs.fill);
    }
    expect(new Set(fills.values()).size).toBe(4);
    expect(ofClass(tags, 'metric-name').map((t) => t.text)).toEqual(['downtimeMs', 'targetReadyBeforeJob', 'stage2Ms']);
    expect(ofClass(tags, 'metric-value').map((t) => t.text)).toEqual(['200', 'false', '12.5']);
  });

  it('labels the axis in seconds since the earliest event', () => {
    const tags = parseSvg(renderTimelineSvg(handover()));
    const labels = ofClass(tags, 'tick-label').map((t) => t.text);
    expect(labels[0]).toBe('0.0');
    expect(labels.at(-1)).toBe('4.0');
    const ticks = ofClass(tags, 'tick');
    const [aRunning] = ofClass(tags, 'segment');
    expect(num(ticks[0], 'x1')).toBeCloseTo(num(aRunning, 'x'), 1);
    expect(num(ticks.at(-1)!, 'x1')).toBeCloseTo(num(aRunning, 'x') + (num(aRunning, 'width') * 4) / 3, 1);
  });

  it('renders empty and single-instant timelines', () => {
    expect(() => parseSvg(renderTimelineSvg({ lanes: [], markers: [] }))).not.toThrow();
    const instant = parseSvg(renderTimelineSvg({ lanes: [{ name: 'A', transitions: [{ status: 'CREATED', at: 7 }] }], markers: [{ label: 'm', at: 7 }] }));
    expect(num(ofClass(instant, 'segment')[0], 'width')).toBe(1);
  });

  it('rejects bad input with an error naming it', () => {
    const bad: Timeline = { lanes: [{ name: 'B (green)', transitions: [{ status: 'RUNNING', at: Number.NaN }] }], markers: [] };
    expect(() => renderTimelineSvg(bad)).toThrow(/lane 'B \(green\)' transition 0 \(RUNNING\)/);
    expect(() => renderTimelineText(bad)).toThrow(RangeError);
    expect(() => renderTimelineSvg({ lanes: [], markers: [{ label: 'm', at: Number.POSITIVE_INFINITY }] })).toThrow(/marker 0 \('m'\)/);
    expect(() => renderTimelineSvg(handover(), { width: 100 })).toThrow(/options\.width/);
  });
});

describe('niceTicks', () => {
  function check(spanMs: number, maxTicks: number) {
    const result = niceTicks(spanMs, maxTicks);
    expect(result.ticks.length).toBeLessThanOrEqual(maxTicks);
    expect(result.ticks[0]).toBe(0);
    result.ticks.forEach((t, i) => expect(t).toBeCloseTo(i * result.stepMs, 9));
    expect(result.ticks.at(-1)!).toBeLessThanOrEqual(spanMs);
    expect(result.ticks.at(-1)! + result.stepMs).toBeGreaterThan(spanMs);
    return result;
  }

  it('steps in 1, 2 or 5 below a second and in clock units above', () => {
    expect([1000, 2000]).toContain(check(10_000, 10).stepMs);
    expect(check(10_000, 8)).toEqual({ stepMs: 2000, ticks: [0, 2000, 4000, 6000, 8000, 10000] });
    expect(check(3_600_000, 8).stepMs).toBe(600_000);
    expect(check(3_600_000, 10).stepMs).toBe(600_000);
    expect(check(250, 6).stepMs).toBe(50);
    expect(check(90_000, 10).stepMs).toBe(10_000);
    expect(check(45 * 60_000, 6).stepMs).toBe(10 * 60_000);
    expect(check(3 * 86_400_000, 5).stepMs).toBe(86_400_000);
    expect(check(0.3, 4).ticks).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it('gives the single tick 0 for an empty span and rejects bad input', () => {
    expect(niceTicks(0, 5).ticks).toEqual([0]);
    expect(() => niceTicks(-1, 5)).toThrow(RangeError);
    expect(() => niceTicks(Number.NaN, 5)).toThrow(RangeError);
    expect(() => niceTicks(1000, 1)).toThrow(RangeError);
  });
});

describe('escapeXml', () => {
  it('escapes the five special characters and replaces characters XML forbids', () => {
    expect(escapeXml(`<a href="x">Tom & 'Jerry'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;');
    expect(escapeXml('&amp;')).toBe('&amp;amp;');
    expect(escapeXml('tab\there\nline')).toBe('tab\there\nline');
    expect(escapeXml('bell\u0007 lone\uD800 pair😀')).toBe('bell\uFFFD lone\uFFFD pair😀');
  });
});

describe('renderTimelineText', () => {
  const text = renderTimelineText(
    handover([
      DOWNTIME_MARKERS[1],
      { label: 'chk-5 COMPLETED', at: T0 + 1500 },
      DOWNTIME_MARKERS[0],
    ]),
  );
  const lines = text.split('\n');

  /** Table rows under a heading line, up to the next blank line. */
  function section(heading: string): string[][] {
    const start = lines.indexOf(heading);
    expect(start, heading).toBeGreaterThanOrEqual(0);
    const end = lines.indexOf('', start);
    return lines.slice(start + 2, end).map((line) => line.trim().split(/\s{2,}/));
  }

  it('lists each lane’s statuses in order with start offset (s) and duration (ms)', () => {
    expect(section('A (blue)').map((row) => row.slice(0, 3))).toEqual([
      ['RUNNING', '0.000', '3000'],
      ['FINISHED', '3.000', '1000'],
    ]);
    expect(section('B (green)').map((row) => row.slice(0, 3))).toEqual([
      ['RESTORING', '1.000', '1000'],
      ['WAITING_FOR_START_SIGNAL', '2.000', '1200'],
      ['RUNNING', '3.200', '800'],
    ]);
  });

  it('draws each segment as a bar in proportion', () => {
    const bars = section('A (blue)').map((row) => row[3]);
    expect(bars[0]).toBe(`${'#'.repeat(30)}${'.'.repeat(10)}`);
    expect(bars[1]).toBe(`${'.'.repeat(30)}${'#'.repeat(10)}`);
  });

  it('lists the markers in time order with the downtime, then the metrics', () => {
    expect(section('markers').map((row) => [row[0], row.at(-1)])).toEqual([
      ['1.500', 'chk-5 COMPLETED'],
      ['3.000', 'A last record'],
      ['3.200', 'B first record'],
      ['downtime 200 ms (A last record to B first record)', 'downtime 200 ms (A last record to B first record)'],
    ]);
    const metricsAt = lines.indexOf('metrics');
    expect(metricsAt).toBeGreaterThan(lines.indexOf('markers'));
    expect(lines.slice(metricsAt + 1, metricsAt + 4).map((line) => line.trim().split(/\s+/))).toEqual([
      ['downtimeMs', '200'],
      ['targetReadyBeforeJob', 'false'],
      ['stage2Ms', '12.5'],
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('shows a zero-length status as one column of its bar', () => {
    const out = renderTimelineText({
      lanes: [{ name: 'B', transitions: [{ status: 'RESTORING', at: 0 }, { status: 'WAITING_FOR_START_SIGNAL', at: 1000 }, { status: 'RUNNING', at: 1000 }], endAt: 2000 }],
      markers: [],
    });
    const waiting = out.split('\n').find((line) => line.includes('WAITING_FOR_START_SIGNAL'))!;
    expect(waiting.trim().split(/\s+/).slice(1)).toEqual(['1.000', '0', `${'.'.repeat(20)}#${'.'.repeat(19)}`]);
  });

  it('says so for a lane without transitions and leaves out empty sections', () => {
    const out = renderTimelineText({ lanes: [{ name: 'B', transitions: [] }], markers: [] });
    expect(out).toContain('B\n  (no transitions)');
    expect(out).not.toContain('markers');
    expect(out).not.toContain('metrics');
  });
});
