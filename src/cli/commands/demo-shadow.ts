// `baton demo shadow`: A live, B beside it in SHADOW on the same live input, the guard compares B with A, output switches at a cut.
import { BatonInternalError } from '../../errors/index.ts';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runJob } from '../../handover/index.ts';
import { renderTimelineSvg, renderTimelineText, type Timeline, type TimelineMarker } from '../../report/timeline/index.ts';
import type { JobResult, PromotionGuard } from '../../runtime/index.ts';
import { exampleJob } from '../examples.ts';
import { formatCount } from '../format.ts';
import { expectedLines, firstMismatch, lines, writePriceList } from './demo-handover.ts';

const JOB = exampleJob('orders');

export interface ShadowDemoOptions {
  readonly refMb: number;
  readonly orders: number;
  readonly rate: number;
  /** How long B runs in SHADOW before it asks for promotion (ms). */
  readonly shadowMs: number;
  readonly svg: string;
}

/** What the demo's guard found when it compared B's shadow sample with A's committed output. */
interface GuardFinding {
  sampled: number;
  compared: number;
  differing: number;
  aRecords: number | undefined;
  bRecords: number | undefined;
}

/**
 * A reads a live order stream (each order arrives at a fixed wall-clock time, for any reader);
 * once A completed two checkpoints, B starts in shadow mode: it bootstraps from A's newest
 * checkpoint and prices the same live orders itself, writing to a shadow directory. After
 * `shadowMs` B asks for promotion; the guard compares B's sampled lines with the lines A committed
 * for the same orders; then B holds, A stops at a checkpoint at or after B's positions (the cut),
 * B reads exactly up to it and its output turns live. Returns both results and the SVG's path.
 */
export async function runShadowDemo(options: ShadowDemoOptions, out: (line: string) => void): Promise<{ a: JobResult; b: JobResult; svg: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-shadow-demo-'));
  try {
    const priceList = writePriceList(dir, options.refMb);
    const storage = pathToFileURL(join(dir, 'checkpoints')).href;
    const since = Date.now();
    const params = (output: string, extra: Record<string, string> = {}) => ({ priceList, orders: options.orders, rate: options.rate, intervalMs: 250, customers: 10_000, output, liveSince: since, ...extra });
    const t0 = Date.now();
    const at = () => `+${String(Date.now() - t0).padStart(6)} ms`;

    out(`A: 'orders' on a live stream of ${formatCount(options.orders)} orders at ${formatCount(options.rate)}/s (parallelism 2, checkpoints every 250 ms)`);
    const a = await runJob(JOB, { jobId: 'orders', parallelism: 2, checkpointStorage: storage, params: params(join(dir, 'out-a')), stopRequestPollMs: 50, handoverPollMs: 20 });
    a.on('status', (e) => out(`${at()}  A ${e.status}`));
    a.on('handover', (h) => out(`${at()}  A handover ${h.phase}${h.checkpointId === undefined ? '' : ` chk-${h.checkpointId}`}${h.detail ? ` (${h.detail})` : ''}`));
    await new Promise<void>((resolve) => a.on('checkpoint', (c) => c.status === 'COMPLETED' && c.id >= 2 && resolve()));

    const finding: GuardFinding = { sampled: 0, compared: 0, differing: 0, aRecords: undefined, bRecords: undefined };
    // The guard: every line B sampled for an order A has committed must be A's line, character for character.
    const guard: PromotionGuard = (ctx) => {
      const byOrder = new Map((existsSync(join(dir, 'out-a')) ? lines(join(dir, 'out-a')) : []).map((l) => [l.slice(0, l.indexOf(',')), l]));
      const sampled = ctx.sample.sinks.flatMap((s) => s.records.map(String));
      const compared = sampled.filter((l) => byOrder.has(l.slice(0, l.indexOf(','))));
      finding.sampled = sampled.length;
      finding.compared = compared.length;
      finding.differing = compared.filter((l) => byOrder.get(l.slice(0, l.indexOf(','))) !== l).length;
      finding.aRecords = ctx.predecessor?.operators.orders?.recordsOut;
      finding.bRecords = ctx.successor.operators.orders?.recordsOut;
      // Nothing comparable (A ended before B sampled anything it had committed): nothing speaks against B either.
      return finding.differing === 0 ? true : { ok: false, reason: `${finding.differing} of ${compared.length} sampled lines differ from A's` };
    };
    out(`${at()}  A completed chk-2; B starts in shadow mode (promotion after ${options.shadowMs} ms in SHADOW)`);
    const b = await runJob(JOB, {
      jobId: 'orders',
      parallelism: 3,
      checkpointStorage: storage,
      params: params(join(dir, 'out-b'), { shadowOutput: join(dir, 'shadow-b') }),
      handover: { mode: 'shadow', pollMs: 50, shadow: { promoteAfterMs: options.shadowMs, sampleEveryMs: 500, sampleSize: 2_000 }, promotionGuard: guard, guardTimeoutMs: 5_000, onGuardTimeout: 'abort' },
    });
    const marks: TimelineMarker[] = [];
    b.on('status', (e) => out(`${at()}  B ${e.status}`));
    b.on('handover', (h) => {
      if (h.phase === 'shadow-sample') return;
      out(`${at()}  B handover ${h.phase}${h.checkpointId === undefined ? '' : ` chk-${h.checkpointId}`}${h.detail ? ` (${h.detail})` : ''}`);
      if (h.phase === 'guard') marks.push({ label: `guard: ${h.detail}`, at: h.at, lane: 'B (new, shadow)' });
      if (h.phase === 'cut') marks.push({ label: `cut at chk-${h.checkpointId}`, at: h.at });
    });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const h = rb.handover!;
    const s = h.shadow!;
    out('');
    out(`guard: ${finding.compared} of ${finding.sampled} sampled lines of B compared with A's committed ones, ${finding.differing} differ; orders read: A ${finding.aRecords ?? '?'} (at its newest checkpoint), B ${finding.bRecords ?? '?'} (since its bootstrap)`);
    const timeline: Timeline = {
      lanes: [
        { name: 'A (old, live)', transitions: ra.statusHistory.map((e) => ({ status: e.status, at: e.at })) },
        { name: 'B (new, shadow)', transitions: rb.statusHistory.map((e) => ({ status: e.status, at: e.at })) },
      ],
      markers: [
        ...marks,
        ...(h.lastRecordAt ? [{ label: 'A last record', at: h.lastRecordAt, lane: 'A (old, live)' }] : []),
        ...(h.firstRecordAt ? [{ label: 'B first record', at: h.firstRecordAt, lane: 'B (new, shadow)' }] : []),
      ],
      metrics: {
        'bootstrapped from': `chk-${s.bootstrapCheckpoint}`,
        'overlap A and B (ms)': s.overlapMs ?? 'none',
        'records written in shadow': s.shadowRecords,
        'guard verdict': s.guard ? `${s.guard.verdict}${s.guard.reason ? ` (${s.guard.reason})` : ''}` : 'not asked',
        'guard (ms)': s.guard?.ms ?? 0,
        'cut at': s.cutCheckpoint === undefined ? 'none' : `chk-${s.cutCheckpoint}`,
        'hold to cut (ms)': s.heldAt !== undefined && s.cutAt !== undefined ? s.cutAt - s.heldAt : 'unknown',
        'live output gap (ms)': s.liveGapMs ?? 'unknown',
      },
    };
    for (const line of renderTimelineText(timeline).split('\n')) out(line);
    const svgPath = resolvePath(options.svg);
    mkdirSync(join(svgPath, '..'), { recursive: true });
    writeFileSync(svgPath, renderTimelineSvg(timeline, { title: `baton shadow demo: A live, B in shadow, cut at chk-${s.cutCheckpoint}` }));
    out('');
    const aLines = existsSync(join(dir, 'out-a')) ? lines(join(dir, 'out-a')) : [];
    const bLines = existsSync(join(dir, 'out-b')) ? lines(join(dir, 'out-b')) : [];
    const shadowLines = existsSync(join(dir, 'shadow-b')) ? lines(join(dir, 'shadow-b')).length : 0;
    const mismatch = firstMismatch([...aLines, ...bLines], expectedLines(options.orders, priceList));
    if (mismatch) out(`first difference: got ${mismatch.got ?? 'nothing'}, expected ${mismatch.expected ?? 'nothing'}`);
    out(`A committed ${formatCount(aLines.length)} lines, B ${formatCount(bLines.length)} (and ${formatCount(shadowLines)} to its shadow directory); together they equal one uninterrupted run: ${mismatch === undefined ? 'yes' : 'NO'}`);
    out(`overlap ${s.overlapMs ?? '?'} ms (B in SHADOW beside A), live output gap ${s.liveGapMs ?? '?'} ms (A's last record before the cut → B's first live record)`);
    out(`timeline written to ${svgPath}`);
    if (mismatch !== undefined) throw new BatonInternalError('the demo output is not exactly once');
    return { a: ra, b: rb, svg: svgPath };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
