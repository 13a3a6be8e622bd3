// A run fenced at its commit point (another run created the checkpoint's _metadata first): FAILED, never restarted, nothing of it committed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { FileStorage } from '../../src/checkpoint/storage/index.ts';
import { FencedError, runJob } from '../../src/index.ts';
import { OTHER_RUN_ID } from '../support/contested-storage.ts';
import { checkpointPacer, committedLines, expectedSumsPrefix, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-fenced-run-'));
const fresh = jobDirs(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a fenced run', () => {
  it('fails with FencedError, emits fenced once, is not restarted by its restart strategy, and commits nothing of the checkpoint it lost', async () => {
    const t = fresh('no-restart');
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const job = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      // Another run wins the create of chk-3/_metadata (see test/support/contested-storage.ts).
      checkpointStorage: t.storage.replace(/^file:/, 'contested:'),
      restartStrategy: { type: 'fixedDelay', attempts: 3, delayMs: 10 },
      params: { output: t.output, to: 4_000, intervalMs: 40, pacedBy: join(t.dir, 'paced'), segment: 500, contestedCheckpoint: 3 },
    });
    // The input advances per checkpoint: it cannot end before checkpoint 3.
    job.on('checkpoint', () => pacer.ended());
    const fenced: unknown[] = [];
    job.on('fenced', (event) => fenced.push(event));
    const error = await job.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FencedError);
    expect(error).toMatchObject({ code: 'BATON_ERR_FENCED', checkpointId: 3, reason: 'metadata-exists', runId: job.runId });
    expect(fenced).toEqual([expect.objectContaining({ checkpointId: 3, reason: 'metadata-exists', runId: job.runId })]);
    expect(job.status).toBe('FAILED');
    expect(job.statusHistory.map((s) => s.status)).not.toContain('RESTARTING');
    // Committed: exactly what checkpoint 2 covers, each line once; the other run's chk-3 untouched.
    const lines = committedLines(t.output);
    expect(lines).toEqual(expectedSumsPrefix(lines));
    const jobDir = new FileStorage(join(t.dir, 'checkpoints', t.jobId));
    expect((await readMetadata(jobDir, 3)).runId).toBe(OTHER_RUN_ID);
    const two = await readMetadata(jobDir, 2);
    const lastCommitted = Math.max(0, ...lines.map((l) => Number(l.split(',')[1])));
    expect(two.runId).toBe(job.runId);
    // The sink committed through checkpoint 2 (the source's next number there, minus one) and not one record more.
    const source = two.operators.find((o) => o.uid === 'numbers')?.subtasks[0].state as { splits: Array<{ offset: number }> };
    expect(lastCommitted).toBe(source.splits[0].offset - 1);
  });
});
