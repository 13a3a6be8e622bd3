// The promotion guard's answers, its deadline, and the counters it is given (read from hostile storage), in milliseconds.
import { describe, expect, it } from 'vitest';
import { askGuard, checkpointGuard, PromotionRefusedError, predecessorMetrics, verdictAnswer } from '../../../src/handover/index.ts';
import type { PromotionGuardContext } from '../../../src/runtime/coordinator/start-sequence.ts';
import type { CheckpointMetadata } from '../../../src/checkpoint/types.ts';
import { FileStorage } from '../../../src/checkpoint/storage/file-storage.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ctx: PromotionGuardContext = {
  mode: 'shadow',
  jobId: 'j',
  sample: { total: 0, sinks: [] },
  successor: { at: 0, operators: {}, lateRecordsDropped: 0 },
  predecessor: undefined,
  referenceData: () => undefined,
};

describe('askGuard', () => {
  it('true and { ok: true } promote; { ok: false, reason } refuses with the reason; no guard promotes', async () => {
    expect(await askGuard(async () => true, ctx, 1_000)).toEqual({ kind: 'promote' });
    expect(await askGuard(() => ({ ok: true }), ctx, 1_000)).toEqual({ kind: 'promote' });
    expect(await askGuard(async () => ({ ok: false, reason: 'counts differ' }), ctx, 1_000)).toEqual({ kind: 'refused', reason: 'counts differ' });
    expect(await askGuard(undefined, ctx, 1_000)).toEqual({ kind: 'promote' });
  });

  it('a guard that throws or answers anything else refuses, saying what it did', async () => {
    expect(await askGuard(async () => Promise.reject(new Error('reference data missing')), ctx, 1_000)).toEqual({ kind: 'refused', reason: 'the promotion guard threw: reference data missing' });
    expect(verdictAnswer('yes')).toEqual({ kind: 'refused', reason: 'the promotion guard answered "yes", not true or { ok: false, reason }' });
    expect(verdictAnswer(false)).toEqual({ kind: 'refused', reason: 'the promotion guard answered false (no reason given)' });
    expect(verdictAnswer({ ok: false })).toEqual({ kind: 'refused', reason: 'the promotion guard refused (no reason given)' });
  });

  it('a guard still running at the deadline is a timeout; its late answer is ignored', async () => {
    let answer!: (v: true) => void;
    const pending = askGuard(() => new Promise<true>((resolve) => (answer = resolve)), ctx, 20);
    expect(await pending).toEqual({ kind: 'timeout', timeoutMs: 20 });
    answer(true);
  });

  it('the guard sees what it is given', async () => {
    const seen: PromotionGuardContext[] = [];
    await askGuard(
      (c) => {
        seen.push(c);
        return true;
      },
      ctx,
      1_000,
    );
    expect(seen).toEqual([ctx]);
  });
});

const meta = (progress: unknown): CheckpointMetadata => ({ jobId: 'j', checkpointId: 9, triggeredAt: 0, completedAt: 1, maxParallelism: 128, operators: [], exclusiveFiles: [], lastRecordAt: 77, progress } as CheckpointMetadata);

describe('predecessorMetrics', () => {
  it('the counters of a checkpoint, with its id, late records summed, last record', () => {
    const m = predecessorMetrics(meta({ at: 5, operators: { events: { recordsIn: 0, recordsOut: 10 }, window: { recordsIn: 10, recordsOut: 2, lateRecordsDropped: 3 } } }));
    expect(m).toEqual({
      checkpointId: 9,
      at: 5,
      operators: { events: { recordsIn: 0, recordsOut: 10 }, window: { recordsIn: 10, recordsOut: 2, lateRecordsDropped: 3 } },
      lateRecordsDropped: 3,
      lastRecordAt: 77,
    });
  });

  it('storage is hostile: only finite non-negative counts pass; no counters, no metrics', () => {
    expect(predecessorMetrics(meta(undefined))).toBeUndefined();
    expect(predecessorMetrics(meta({ at: 'x', operators: {} }))).toBeUndefined();
    expect(predecessorMetrics(meta({ at: 1, operators: { a: { recordsIn: -1, recordsOut: 2 }, b: { recordsIn: 1, recordsOut: Number.NaN }, c: null, d: { recordsIn: 1, recordsOut: 1, lateRecordsDropped: 'x' } } }))?.operators).toEqual({ d: { recordsIn: 1, recordsOut: 1 } });
  });
});

describe('checkpointGuard (the checkpoint handover asks it before B announces)', () => {
  const storage = new FileStorage(mkdtempSync(join(tmpdir(), 'guard-')));
  const deps = (events: unknown[]) => ({ storage, jobId: 'j', referenceData: () => undefined, report: (e: unknown) => events.push(e) });

  it('no guard: nothing to ask', () => {
    expect(checkpointGuard({ guardTimeoutMs: 10 }, deps([]))).toBeUndefined();
  });

  it('a refusal throws PromotionRefusedError with the reason, reported as a guard event; the guard saw no sample and no predecessor yet', async () => {
    const events: unknown[] = [];
    const seen: PromotionGuardContext[] = [];
    const check = checkpointGuard({ promotionGuard: (c) => {
        seen.push(c);
        return { ok: false, reason: 'not today' };
      }, guardTimeoutMs: 1_000, onGuardTimeout: 'abort' }, deps(events))!;
    await expect(check()).rejects.toThrow(PromotionRefusedError);
    await expect(check()).rejects.toMatchObject({ code: 'BATON_ERR_PROMOTION_REFUSED', reason: 'not today' });
    expect(events[0]).toMatchObject({ phase: 'guard', detail: 'refused: not today' });
    expect(seen[0]).toMatchObject({ mode: 'checkpoint', sample: { total: 0, sinks: [] }, predecessor: undefined });
  });

  it("a timeout follows its policy: 'promote' resolves, 'abort' refuses", async () => {
    const never = () => new Promise<true>(() => undefined);
    await expect(checkpointGuard({ promotionGuard: never, guardTimeoutMs: 10, onGuardTimeout: 'promote' }, deps([]))!()).resolves.toBeUndefined();
    await expect(checkpointGuard({ promotionGuard: never, guardTimeoutMs: 10, onGuardTimeout: 'abort' }, deps([]))!()).rejects.toMatchObject({ reason: "the promotion guard did not answer within 10 ms (onGuardTimeout: 'abort')" });
  });
});
