// Handover: B preloads while A runs, A stops right after the target, A's output plus B's equals one uninterrupted run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobHandle, runJob } from '../../src/index.ts';
import { committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-handover-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const TO = 24_000;
// 5 000 keys: a checkpoint's delta holds only the keys that changed since the one before.
const KEYS = 5_000;
// maxDeltas 3: chains get a new base every few checkpoints, so following also reloads replaced ranges.
const params = (output: string) => ({ output, to: TO, rate: 4_000, intervalMs: 150, keys: KEYS, maxDeltas: 3 });

/** Resolves with the id of the first completed checkpoint at or after `id`. */
function completed(job: JobHandle, id: number): Promise<number> {
  return new Promise((resolve) => {
    job.on('checkpoint', (c) => {
      if (c.status === 'COMPLETED' && c.id >= id) resolve(c.id);
    });
  });
}

describe('handover (in one process)', () => {
  it('B follows A and takes over at the target: A + B output equals one uninterrupted run', async () => {
    const t = fresh('same-process');
    const a = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: params(join(t.dir, 'out-a')) });
    const seen = await completed(a, 2);
    const target = seen + 20;
    const b = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      params: params(join(t.dir, 'out-b')),
      handover: { targetCheckpoint: target, timeoutMs: 30_000, pollMs: 20 },
    });
    const statuses: string[] = [];
    b.on('status', (s) => statuses.push(s.status));
    const resultA = await a.done;
    expect(resultA.status).toBe('SUSPENDED');
    expect(resultA.stoppedAtCheckpoint).toBe(target);
    const resultB = await b.done;
    expect(resultB.status).toBe('FINISHED');
    expect(statuses).toContain('WAITING_FOR_START_SIGNAL');
    const h = resultB.handover!;
    expect(h.targetCheckpoint).toBe(target);
    expect(h.stage1Checkpoint).toBeGreaterThanOrEqual(seen);
    // Every checkpoint A completed between B's stage 1 and the target was applied as a delta.
    const between = resultA.checkpoints.filter((c) => c.status === 'COMPLETED' && c.id > h.stage1Checkpoint! && c.id < target);
    expect(h.followedCheckpoints).toBe(between.length);
    expect(h.stage1Checkpoint).toBeLessThan(target);
    expect(h.targetReadyBeforeJob).toBe(false);
    expect(h.downtimeMs).toBeGreaterThan(0);
    expect(resultB.restoredFrom).toBe(target);
    const combined = [...committedLines(join(t.dir, 'out-a')), ...committedLines(join(t.dir, 'out-b'))].sort();
    expect(combined).toEqual(expectedSums(TO, KEYS));
  });

  it('an unaligned target: B replays the in-flight data A checkpointed, output still exactly once', async () => {
    const t = fresh('unaligned');
    // A slow stage behind the keyed sum keeps channels full: the target holds in-flight data.
    const p = (output: string) => ({ output, to: 8_000, rate: 8_000, slowMicros: 150, mode: 'unaligned', intervalMs: 100 });
    const a = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: p(join(t.dir, 'out-a')) });
    const seen = await new Promise<number>((resolve) => a.on('checkpoint', (c) => c.status === 'COMPLETED' && c.channelStateBytes > 0 && resolve(c.id)));
    const target = seen + 3;
    const b = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      params: p(join(t.dir, 'out-b')),
      handover: { targetCheckpoint: target, timeoutMs: 30_000, pollMs: 20 },
    });
    const resultA = await a.done;
    expect(resultA.stoppedAtCheckpoint).toBe(target);
    expect(resultA.checkpoints.find((c) => c.id === target)!.channelStateBytes).toBeGreaterThan(0);
    const resultB = await b.done;
    expect(resultB.status).toBe('FINISHED');
    expect(resultB.restoredFrom).toBe(target);
    const combined = [...committedLines(join(t.dir, 'out-a')), ...committedLines(join(t.dir, 'out-b'))].sort();
    expect(combined).toEqual(expectedSums(8_000));
  });
});
