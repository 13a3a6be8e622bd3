// The promotion guard: sees B's shadow sample and both deployments' counters; a refusal stops B and leaves A's output whole; a timeout follows its policy.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobHandle, type PromotionGuardContext, PromotionRefusedError, runJob } from '../../src/index.ts';
import { committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import { checkpointed, expectAWhole, handoverEvent, hasRecords, logGate, reached, untilAfter } from './shadow-helpers.ts';
import { SEGMENT, SPLITS, shadowScenario } from './shadow-scenario.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-shadow-guard-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

/** A on the gated log, and its gate; B comes from the test. */
async function startA(t: { dir: string; jobId: string; storage: string }) {
  const gate = logGate(join(t.dir, 'gate'));
  gate.openThrough(1);
  const params = (version: string, out: string) => ({ version, out, gate: gate.dir, segment: SEGMENT, splits: SPLITS, intervalMs: 50 });
  const common = { jobId: t.jobId, checkpointStorage: t.storage, metricsIntervalMs: 50 };
  const a = await runJob(jobUrl('shadow-job'), { ...common, parallelism: 2, params: params('A', join(t.dir, 'out-a')), stopRequestPollMs: 20 });
  await checkpointed(a, 2);
  return { a, gate, params, common };
}

/** A reads the rest alone and ends: its output is one uninterrupted run's, and it never stood by nor resumed (nobody asked it to stop). */
async function expectAUntouched(t: { dir: string }, a: JobHandle, gate: ReturnType<typeof logGate>): Promise<void> {
  const ra = await expectAWhole(t.dir, a, gate, SEGMENT, SPLITS);
  expect(ra.statusHistory.map((e) => e.status)).not.toContain('STANDBY');
  expect(ra.rollbacks ?? []).toEqual([]);
}

describe('the promotion guard', { timeout: 90_000 }, () => {
  it('shadow mode: sees B’s sample and both counters; its refusal stops B (reason reported) and A’s output stays whole', async () => {
    const t = fresh('refused');
    const { a, gate, params, common } = await startA(t);
    const seen: PromotionGuardContext[] = [];
    const b = await runJob(jobUrl('shadow-job'), {
      ...common,
      parallelism: 3,
      params: { ...params('B', join(t.dir, 'out-b')), shadowOut: join(t.dir, 'shadow-b') },
      handover: {
        mode: 'shadow',
        pollMs: 20,
        shadow: { sampleEveryMs: 50, sampleSize: 5 },
        promotionGuard: (ctx) => {
          seen.push(ctx);
          return { ok: false, reason: 'B counts differ from A' };
        },
        onGuardTimeout: 'abort',
      },
    });
    await reached(b, 'SHADOW');
    gate.openThrough(3);
    await untilAfter(b, 'shadow-sample', () => hasRecords(committedLines(join(t.dir, 'shadow-b', 'lines')), 'ev', SPLITS, 4 * SEGMENT - 1));
    const refused = handoverEvent(b, (e) => e.phase === 'refused');
    b.promote();
    expect((await refused).detail).toBe('B counts differ from A');
    await expect(b.done).rejects.toThrow(PromotionRefusedError);
    await expect(b.done).rejects.toMatchObject({ code: 'BATON_ERR_PROMOTION_REFUSED', reason: 'B counts differ from A' });
    expect(b.status).toBe('FAILED');
    // What the guard was given: B's newest shadow records (B's code), B's counters, A's as of its newest checkpoint.
    const ctx = seen[0];
    expect(seen).toHaveLength(1);
    expect(ctx.mode).toBe('shadow');
    expect(ctx.sample.total).toBeGreaterThan(0);
    const lines = ctx.sample.sinks.filter((s) => s.uid === 'lines');
    expect(lines).toHaveLength(3);
    for (const s of lines) {
      expect(s.records.length).toBeLessThanOrEqual(5);
      for (const r of s.records) expect(String(r)).toMatch(/^B\|/);
    }
    expect(ctx.successor.operators.events.recordsOut).toBeGreaterThan(0);
    expect(ctx.predecessor?.checkpointId).toBeGreaterThanOrEqual(2);
    expect(ctx.predecessor?.operators.events.recordsOut).toBeGreaterThan(0);
    expect(ctx.predecessor?.lateRecordsDropped).toBe(0);
    // Nothing was asked of A: no request, and A runs on.
    expect(existsSync(join(t.dir, 'checkpoints', t.jobId, 'handover', 'stop-request.json'))).toBe(false);
    expect(a.status).toBe('RUNNING');
    await expectAUntouched(t, a, gate);
  });

  it("a guard that does not answer in time, onGuardTimeout 'promote': promoted, and the cut is exact", async () => {
    const t = fresh('timeout');
    const run = await shadowScenario({
      ...t,
      parallelismA: 1,
      parallelismB: 2,
      versionB: 'B',
      lagging: 'B',
      handover: { promotionGuard: () => new Promise<true>(() => undefined), guardTimeoutMs: 50, onGuardTimeout: 'promote' },
    });
    expect(run.b.handover?.shadow?.guard).toMatchObject({ verdict: 'timeout' });
    expect([...run.committed.a.lines, ...run.committed.b.lines].sort()).toEqual(run.expected.lines);
    expect([...run.committed.a.windows, ...run.committed.b.windows].sort()).toEqual(run.expected.windows);
  });

  it('checkpoint mode: asked after B’s stage 1, before B announces itself; a refusal stops B, A never stands by', async () => {
    const t = fresh('checkpoint-mode');
    const { a, gate, params, common } = await startA(t);
    const seen: PromotionGuardContext[] = [];
    const b = await runJob(jobUrl('shadow-job'), {
      ...common,
      parallelism: 2,
      params: params('B', join(t.dir, 'out-b')),
      handover: { pollMs: 20, promotionGuard: (ctx) => {
          seen.push(ctx);
          return { ok: false, reason: 'reference data too old' };
        }, onGuardTimeout: 'abort' },
    });
    await expect(b.done).rejects.toMatchObject({ name: 'PromotionRefusedError', reason: 'reference data too old' });
    expect(b.statusHistory.map((e) => e.status)).not.toContain('RUNNING');
    expect(seen[0]).toMatchObject({ mode: 'checkpoint', sample: { total: 0 } });
    expect(seen[0].predecessor?.operators.events.recordsOut).toBeGreaterThan(0);
    expect(existsSync(join(t.dir, 'checkpoints', t.jobId, 'handover', 'stop-request.json'))).toBe(false);
    await expectAUntouched(t, a, gate);
  });
});
