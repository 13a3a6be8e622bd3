// `baton demo`: deployment A runs, deployment B loads reference data, preloads, waits and takes over; timeline and metrics.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SingleBar } from 'cli-progress';
import { order, priceOf } from '../../../examples/orders.ts';
import { BatonInternalError } from '../../errors/index.ts';
import { runJob } from '../../handover/index.ts';
import { renderTimelineSvg, renderTimelineText, type Timeline } from '../../report/timeline/index.ts';
import type { JobResult } from '../../runtime/index.ts';
import { formatCount } from '../format.ts';
import { exampleJob } from '../examples.ts';
import { handoverTimeline, narrate } from './demo-timeline.ts';

const JOB = exampleJob('orders');

export interface HandoverDemoOptions {
  readonly refMb: number;
  readonly orders: number;
  /** Orders per second A (then B) reads (default 8 000): a slower input keeps A running while a slow machine starts B. */
  readonly rate?: number;
  /** A fixed target this many checkpoints ahead of A; undefined: `when-ready` (the default). */
  readonly ahead?: number;
  /** Stop B while it waits (after A accepted its request): A stands by, then resumes by itself. */
  readonly rollback?: boolean;
  readonly svg: string;
  /** Draw a progress bar on the terminal (off when the output is not a TTY, e.g. in tests). */
  readonly progressBar: boolean;
}

/** Runs the demo; returns both results and where the SVG went. */
export async function runHandoverDemo(options: HandoverDemoOptions, out: (line: string) => void): Promise<{ a: JobResult; b: JobResult; svg: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-demo-'));
  try {
    const priceList = writePriceList(dir, options.refMb);
    const storage = pathToFileURL(join(dir, 'checkpoints')).href;
    const params = (output: string) => ({ priceList, orders: options.orders, rate: options.rate ?? 8_000, intervalMs: 250, customers: 10_000, output });
    const t0 = Date.now();
    const at = () => `+${String(Date.now() - t0).padStart(6)} ms`;

    out(`A: starting 'orders' (parallelism 2, checkpoints every 250 ms to ${storage})`);
    const a = await runJob(JOB, { jobId: 'orders', parallelism: 2, checkpointStorage: storage, params: params(join(dir, 'out-a')) });
    narrate(a, 'A', at, out);
    // when-ready: B starts right away (its slow start-up overlaps A's; it takes over when it is
    // ready, whenever that is). A fixed target is picked from A's progress: B starts after A's second checkpoint.
    const seen = options.ahead === undefined ? 0 : await new Promise<number>((resolve) => a.on('checkpoint', (c) => c.status === 'COMPLETED' && c.id >= 2 && resolve(c.id)));
    const target = options.ahead === undefined ? ('when-ready' as const) : seen + options.ahead;
    out(`${at()}  ${seen === 0 ? 'B starts too' : `A completed chk-${seen}; B starts`}, taking over ${target === 'when-ready' ? 'when it is ready (when-ready)' : `at chk-${target}`}`);

    const b = await runJob(JOB, {
      jobId: 'orders',
      parallelism: 2,
      checkpointStorage: storage,
      params: params(join(dir, 'out-b')),
      handover: { targetCheckpoint: target, timeoutMs: 120_000, pollMs: 50 },
    });
    narrate(b, 'B', at, out);
    if (options.rollback) {
      // B is stopped once A stands by after its stop checkpoint (before B's first checkpoint): B
      // withdraws its request, and A resumes from that checkpoint by itself. Stopped any earlier, A
      // may see the request withdrawn before its stop checkpoint is triggered: then it just runs on.
      const onStandby = (h: { phase: string }) => {
        if (h.phase !== 'standby') return;
        a.off('handover', onStandby);
        out(`${at()}  A stands by after its stop checkpoint; B is stopped before its first checkpoint`);
        void b.cancel();
      };
      a.on('handover', onStandby);
    }
    const bar = options.progressBar ? new SingleBar({ format: '          B reference data |{bar}| {percentage}% {value}/{total} MiB', hideCursor: true }) : undefined;
    b.on('reference-data', (p) => {
      const mib = (n: number) => Math.round(n / 2 ** 20);
      if (bar && !bar.isActive) bar.start(mib(p.totalBytes), 0);
      bar?.update(mib(p.loadedBytes));
      if (p.loadedBytes === p.totalBytes) {
        bar?.stop();
        out(`${at()}  B loaded ${formatCount(p.totalBytes)} bytes of reference data into shared memory`);
      }
    });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    if (options.rollback) return await rollbackReport(ra, rb, dir, options, out);
    const h = rb.handover!;
    out('');
    const timeline = handoverTimeline(ra, rb);
    for (const line of renderTimelineText(timeline).split('\n')) out(line);
    const svgPath = resolvePath(options.svg);
    mkdirSync(join(svgPath, '..'), { recursive: true });
    writeFileSync(svgPath, renderTimelineSvg(timeline, { title: `baton handover demo: A → B at chk-${h.targetCheckpoint}` }));
    out('');
    const aLines = lines(join(dir, 'out-a'));
    const bLines = lines(join(dir, 'out-b'));
    const mismatch = firstMismatch([...aLines, ...bLines], expectedLines(options.orders, priceList));
    const exact = mismatch === undefined;
    if (mismatch) out(`first difference: got ${mismatch.got ?? 'nothing'}, expected ${mismatch.expected ?? 'nothing'}`);
    out(`A committed ${formatCount(aLines.length)} lines, B ${formatCount(bLines.length)}; together they equal one uninterrupted run: ${exact ? 'yes' : 'NO'}`);
    out(`downtime ${h.downtimeMs ?? '?'} ms (A's last record → B's first), while B's start-up took ${h.hookMs + h.stage1Ms} ms before it waited`);
    out(`timeline written to ${svgPath}`);
    if (!exact) throw new BatonInternalError('the demo output is not exactly once');
    return { a: ra, b: rb, svg: svgPath };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rollback demo's ending: A's timeline (RUNNING → STANDBY → RUNNING), its downtime, and A's output alone is the whole run. */
async function rollbackReport(ra: JobResult, rb: JobResult, dir: string, options: HandoverDemoOptions, out: (line: string) => void): Promise<{ a: JobResult; b: JobResult; svg: string }> {
  const r = ra.rollbacks?.[0];
  out('');
  const timeline: Timeline = {
    lanes: [
      { name: 'A (old deployment)', transitions: ra.statusHistory.map((e) => ({ status: e.status, at: e.at })) },
      { name: 'B (new deployment)', transitions: rb.statusHistory.map((e) => ({ status: e.status, at: e.at })) },
    ],
    markers: [
      ...(r?.lastRecordAt ? [{ label: 'A last record', at: r.lastRecordAt, lane: 'A (old deployment)' }] : []),
      ...(r ? [{ label: 'A first record after resuming', at: r.firstRecordAt, lane: 'A (old deployment)' }] : []),
    ],
    metrics: {
      'stop checkpoint': r ? `chk-${r.checkpointId}` : 'none (A never stopped)',
      'why A resumed': r?.reason ?? '-',
      'rollback downtime (ms)': r?.downtimeMs ?? 'unknown',
      'B ended': rb.status,
    },
  };
  for (const line of renderTimelineText(timeline).split('\n')) out(line);
  const svgPath = resolvePath(options.svg);
  mkdirSync(join(svgPath, '..'), { recursive: true });
  writeFileSync(svgPath, renderTimelineSvg(timeline, { title: 'baton handover demo: B stopped before its first checkpoint, A rolls back' }));
  out('');
  const aLines = lines(join(dir, 'out-a'));
  const bLines = existsSync(join(dir, 'out-b')) ? lines(join(dir, 'out-b')) : [];
  const priceList = readdirSync(dir).includes('price-list.bin') ? pathToFileURL(join(dir, 'price-list.bin')).href : '';
  const mismatch = firstMismatch([...aLines, ...bLines], expectedLines(options.orders, priceList));
  out(`A committed ${formatCount(aLines.length)} lines, B ${formatCount(bLines.length)}; together they equal one uninterrupted run: ${mismatch === undefined ? 'yes' : 'NO'}`);
  out(`rollback downtime ${r?.downtimeMs ?? '?'} ms (A's last record before its stop checkpoint → its first after resuming)`);
  out(`timeline written to ${svgPath}`);
  if (mismatch !== undefined) throw new BatonInternalError('the demo output is not exactly once');
  return { a: ra, b: rb, svg: svgPath };
}

/** A price list of `mb` MiB: 64 int32 prices up front, the rest stands in for a big reference data set. */
export function writePriceList(dir: string, mb: number): string {
  const file = join(dir, 'price-list.bin');
  const data = new Int32Array((mb * 2 ** 20) / 4);
  for (let i = 0; i < data.length; i++) data[i] = i < 64 ? 100 + i * 7 : i;
  writeFileSync(file, new Uint8Array(data.buffer));
  return pathToFileURL(file).href;
}

export function lines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
}

/** What one uninterrupted run commits, computed with a plain loop. */
export function expectedLines(orders: number, priceList: string): string[] {
  const prices = new Int32Array(readFileSync(new URL(priceList)).buffer.slice(0, 256));
  const spend = new Map<number, number>();
  const result: string[] = [];
  for (let n = 1; n <= orders; n++) {
    const o = order(n, 10_000);
    const s = (spend.get(o.customer) ?? 0) + o.qty * priceOf(prices, o.item);
    spend.set(o.customer, s);
    result.push(`${o.id},${o.customer},${s}`);
  }
  return result;
}

/** The first line (in sorted order) where the output differs from one uninterrupted run, if any. */
export function firstMismatch(actual: string[], expected: string[]): { got?: string; expected?: string } | undefined {
  const a = [...actual].sort();
  const e = [...expected].sort();
  for (let i = 0; i < Math.max(a.length, e.length); i++) if (a[i] !== e[i]) return { got: a[i], expected: e[i] };
  return undefined;
}
