// Storage stays bounded across restarts: a run that restores takes over retention and sweeps what dead attempts left.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { type JobHandle, runJob } from '../../src/index.ts';
import { censusOfJobDir } from '../support/job-dir-census.ts';
import { committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-retention-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

/** Resolves once `job` has completed `n` checkpoints (counted from now); the ids, in order. */
function completions(job: JobHandle, n: number): Promise<number[]> {
  const ids: number[] = [];
  return new Promise((resolve) => {
    job.on('checkpoint', (c: { status: string; id: number }) => {
      if (c.status !== 'COMPLETED') return;
      ids.push(c.id);
      if (ids.length === n) resolve(ids);
    });
  });
}

/** Crashed runs before the measured one: 6 in `npm test` (time); BATON_RETENTION_RUNS=20 for the figure in the README. */
const RUNS = Number(process.env.BATON_RETENTION_RUNS ?? 6);

describe('storage across restarts', () => {
  it(`holds at most \`retain\` completed checkpoints, no orphan chunk and no temp file after ${RUNS} crashed runs, and stays exactly once`, async () => {
    const t = fresh('restarts');
    const retain = 2;
    const to = 4_000;
    const params = { output: t.output, to, rate: 1_000, intervalMs: 30, retain, keys: 50 };
    const jobDir = join(t.dir, 'checkpoints', t.jobId);
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    const options = { jobId: t.jobId, parallelism: 1, checkpointStorage: t.storage };
    let planted = 0;
    const started = Date.now();
    for (let round = 0; round < RUNS; round++) {
      const job = await runJob(jobUrl('checkpointed-sum'), { ...options, ...(round > 0 ? { restoreFrom: 'latest' as const } : {}), params });
      const ids = await completions(job, 2);
      // What a process killed while writing the next `_metadata` leaves behind.
      const torn = join(jobDir, `chk-${ids[1] + 1}`);
      mkdirSync(torn, { recursive: true });
      writeFileSync(join(torn, `_metadata.tmp-${round.toString(16).padStart(16, '0')}`), 'torn');
      // And what one killed between a chunk upload and `_metadata` leaves: a chunk nothing references.
      mkdirSync(join(jobDir, 'shared'), { recursive: true });
      writeFileSync(join(jobDir, 'shared', `sum-0-127-${ids[1] + 1}-delta-${round.toString(16).padStart(8, '0')}`), 'orphan');
      planted++;
      // A crash: whatever checkpoint is in flight is cut off, its chunks stay behind.
      await job.cancel();
      if (process.env.BATON_TRACE) console.log(`round ${round} done at ${Date.now() - started} ms`);
    }
    const crashed = await censusOfJobDir(storage, jobDir);
    console.log(`after ${RUNS} crashed runs (retain ${retain}, ${planted} torn metadata files and orphan chunks planted):`, JSON.stringify(crashed));

    // One more run takes over and is stopped with a checkpoint: now the directory is measured.
    const last = await runJob(jobUrl('checkpointed-sum'), { ...options, restoreFrom: 'latest', params });
    await completions(last, 2);
    await last.stop({ mode: 'suspend' });
    const after = await censusOfJobDir(storage, jobDir);
    console.log('after a run that restored from that directory and stopped:', JSON.stringify(after));
    expect(after.completed).toBeLessThanOrEqual(retain);
    expect(after.orphans).toBe(0);
    expect(after.temps).toBe(0);
    expect(after.failed + after.unfinished).toBe(0);

    // The sweeps deleted nothing a restore needs: the rest of the input, exactly once.
    const final = await runJob(jobUrl('checkpointed-sum'), { ...options, restoreFrom: 'latest', params: { ...params, rate: 100_000 } });
    expect((await final.done).status).toBe('FINISHED');
    expect(committedLines(t.output)).toEqual(expectedSums(to, 50));
    await storage.close();
  }, 240_000);
});
