// Handover stage 2 with a background flush: B killed mid-flush, or after it started but before its first checkpoint; A rolls back, and A + B output equals one uninterrupted run.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobHandle, runJob } from '../../src/index.ts';
import { committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-stage2-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const TO = 30_000;
const KEYS = 5_000;
const TARGET = 6;
/**
 * A reads a steady 2 000 numbers/s (15 s of input, far more than 6 checkpoints take), so every
 * checkpoint's delta, the target's too, holds some 600 keys: several flush slices (the first
 * writes 64). Input paced by completed checkpoints instead gave an empty target delta on a busy
 * machine (a late checkpoint, the next one triggered before the source saw its new segment). B
 * reads the rest at 50 000/s.
 */
const params = (output: string, extra: Record<string, string | number> = {}) => ({ output, to: TO, intervalMs: 300, keys: KEYS, rate: 2_000, ...extra });

const waitingForStart = (job: JobHandle) => new Promise<void>((resolve) => job.on('status', (s) => s.status === 'WAITING_FOR_START_SIGNAL' && resolve()));

/** B (started first, so it is ready before A reaches the target) and A; resolves with both results. */
async function handover(name: string, bParams: Record<string, string | number>, onB: (b: JobHandle, dir: string) => void) {
  const t = fresh(name);
  const b = await runJob(jobUrl('checkpointed-sum'), {
    jobId: t.jobId,
    // One worker thread per deployment: thread start-up dominates a test on a busy machine.
    parallelism: 1,
    checkpointStorage: t.storage,
    params: params(join(t.dir, 'out-b'), { rate: 50_000, ...bParams }),
    handover: { targetCheckpoint: TARGET, timeoutMs: 60_000, pollMs: 20 },
    // Allowed, and still not used: a B that fails before its first checkpoint hands the job back to A.
    restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
  });
  onB(b, t.dir);
  await waitingForStart(b);
  const a = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 1, checkpointStorage: t.storage, params: params(join(t.dir, 'out-a')) });
  // B fails (it does not restart over A: before its first checkpoint the job is still A's).
  const [resultA, failureB] = await Promise.all([a.done, b.done.then(() => undefined, (e: unknown) => e)]);
  const resultB = { status: b.status, attempts: b.statusHistory.filter((e) => e.status === 'INITIALIZING').length, failure: failureB };
  const combined = [...committedLines(join(t.dir, 'out-a')), ...committedLines(join(t.dir, 'out-b'))].sort();
  return { t, resultA, resultB, combined };
}

describe('handover stage 2: B killed before its first checkpoint', { timeout: 120_000 }, () => {
  it("B's worker dies in the middle of the background flush of the target's delta: A rolls back from the target, exactly once", async () => {
    const marker = join(root, 'mid-flush-marker');
    const { resultA, resultB, combined } = await handover('mid-flush', { crashMidFlush: marker }, () => undefined);
    // The kill landed after a flush transaction that left entries unwritten...
    expect(existsSync(marker), 'no kill mid-flush').toBe(true);
    expect(readFileSync(marker, 'utf8')).toMatch(/crashed after a flush slice of \d+ entries, [1-9]\d* left/);
    // ...B failed before its first checkpoint (nothing of it committed), and A, standing by after
    // the target, resumed from it by itself and finished the input.
    expect(resultB.status).toBe('FAILED');
    expect(resultB.attempts).toBe(1);
    expect(resultA.status).toBe('FINISHED');
    expect(resultA.rollbacks?.map((r) => r.checkpointId)).toEqual([TARGET]);
    expect(combined).toEqual(expectedSums(TO, KEYS));
  });

  it('B dies after it started processing, before its first checkpoint: its output stays uncommitted, A rolls back and repeats it exactly once', async () => {
    const marker = join(root, 'running-marker');
    const when = join(root, 'running-kill');
    // B checkpoints every 600 ms: its first one cannot complete in the 2 ms the kill takes to land.
    const { resultA, resultB, combined } = await handover('after-start', { crashWhenFile: when, crashMarker: marker, intervalMs: 600 }, (b) => {
      b.on('status', (s) => s.status === 'RUNNING' && !existsSync(when) && writeFileSync(when, 'kill'));
    });
    expect(existsSync(marker)).toBe(true);
    expect(resultB.status).toBe('FAILED');
    expect(resultB.attempts).toBe(1);
    // A resumed from the target: the kill came before B's first checkpoint.
    expect(resultA.status).toBe('FINISHED');
    expect(resultA.rollbacks?.map((r) => r.checkpointId)).toEqual([TARGET]);
    expect(combined).toEqual(expectedSums(TO, KEYS));
  });
});
