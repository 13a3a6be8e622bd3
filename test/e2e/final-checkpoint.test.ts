// End of bounded input goes through a final checkpoint: sinks commit their tails only once it completes.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointStatus, readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { S3Storage } from '../../src/checkpoint/storage/index.ts';
import { runJob } from '../../src/index.ts';
import { startS3GateProxy, type S3GateProxy } from '../support/s3-gate-proxy.ts';
import type { S3rverHandle } from '../support/s3rver.ts';
import { committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { startDeployment } from './deployment.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-final-checkpoint-'));
const fresh = jobDirs(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Lines of committed output that occur more than once, and expected lines missing. */
function compare(lines: readonly string[], expected: readonly string[]): { duplicates: number; missing: number; unexpected: number } {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  const want = new Set(expected);
  let duplicates = 0;
  for (const n of counts.values()) if (n > 1) duplicates += n - 1;
  return {
    duplicates,
    missing: expected.filter((l) => !counts.has(l)).length,
    unexpected: [...counts.keys()].filter((l) => !want.has(l)).length,
  };
}

describe('end of bounded input (final checkpoint)', () => {
  it('a subtask failing after another one ended its input: FINISHED with the output of one uninterrupted run, nothing twice', async () => {
    const t = fresh('early-end');
    const to = 4_000;
    const markers = join(t.dir, 'markers');
    const job = await runJob(jobUrl('early-end'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
      params: { output: t.output, to, markers },
    });
    const result = await job.done;
    expect(result.status).toBe('FINISHED');
    expect(result.attempts).toBe(2);
    // The failure came after subtask 0 had read all its input.
    expect(existsSync(join(markers, 'failed'))).toBe(true);
    const expected = Array.from({ length: to }, (_, i) => String(i + 1)).sort();
    const lines = committedLines(t.output);
    expect(compare(lines, expected)).toEqual({ duplicates: 0, missing: 0, unexpected: 0 });
    expect(lines).toEqual(expected);
    // Nothing hidden is left: every staged tail was committed.
    expect(readdirSync(t.output).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a job whose input is empty or already ended finishes through one checkpoint, also restored from its final checkpoint', async () => {
    const t = fresh('restore-final');
    const params = { output: t.output, to: 2_000, rate: 20_000 };
    const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params });
    const finals: number[] = [];
    first.on('end-of-input', (e) => finals.push(e.finalCheckpoint));
    const done = await first.done;
    expect(done.status).toBe('FINISHED');
    expect(finals).toHaveLength(1);
    const storage = `${t.storage}/${t.jobId}`;
    const { openStorage } = await import('../../src/checkpoint/storage/index.ts');
    const jobStorage = openStorage(storage);
    // The final checkpoint ends the job: nothing is processed after it.
    expect((await readMetadata(jobStorage, finals[0])).endsJob).toBe(true);
    expect(committedLines(t.output)).toEqual(expectedSums(2_000));
    // Restoring the final checkpoint: its sources have nothing left; the job finishes at once, adding nothing.
    const again = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, restoreFrom: 'latest', params });
    const result = await again.done;
    expect(result.status).toBe('FINISHED');
    expect(result.restoredFrom).toBe(finals[0]);
    expect(committedLines(t.output)).toEqual(expectedSums(2_000));
    await jobStorage.close();
  });
});

describe('a kill during the final checkpoint (S3 behind a holding proxy, the job in its own process)', () => {
  let s3: S3rverHandle;
  let proxy: S3GateProxy;
  beforeAll(async () => {
    const { startS3rver } = await import('../support/s3rver.ts');
    s3 = await startS3rver();
    proxy = await startS3GateProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await s3?.close();
  });

  it('before its _metadata is written: no tail is visible, and the restore completes exactly once', async () => {
    const t = fresh('kill-final');
    mkdirSync(t.dir, { recursive: true });
    const to = 3_000;
    const storage = `s3://${s3.bucket}/final`;
    const env = { AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AWS_REGION: s3.region };
    const job = fileURLToPath(jobUrl('checkpointed-sum'));
    const args = ['--job-id', t.jobId, '-p', '2', '--checkpoint-storage', storage, '--param', `output=${t.output}`, '--param', `to=${to}`, '--param', 'rate=6000'];
    let finalId: number | undefined;
    // Hold the final checkpoint's _metadata: it never completes while the process lives.
    const gate = proxy.hold((r) => finalId !== undefined && r.method === 'PUT' && r.path.includes(`/${t.jobId}/chk-${finalId}/_metadata`));
    const a = startDeployment(job, args, join(t.dir, 'a.json'), env);
    finalId = Number((await a.line(/end of input: final checkpoint (\d+) triggered/))[1]);
    await Promise.race([gate.held(), a.exited.then((e) => Promise.reject(new Error(`the job ended (${e.code}) before its final _metadata was held:\n${e.output}`)))]);
    a.child.kill('SIGKILL');
    await a.exited;
    gate.fail('destroy');
    const direct = new S3Storage(`${storage}/${t.jobId}`, { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials });
    expect(await checkpointStatus(direct, finalId)).not.toBe('COMPLETED');
    // The input ended and every subtask staged its tail, but no tail was committed: the visible output
    // is exactly what completed checkpoints cover, a strict prefix of the run's output, each line once.
    const before = committedLines(t.output);
    const expected = expectedSums(to);
    expect(compare(before, expected).duplicates).toBe(0);
    expect(compare(before, expected).unexpected).toBe(0);
    expect(before.length).toBeLessThan(expected.length);
    // Restore from latest (a checkpoint before the final one): the rest is emitted once.
    const b = startDeployment(job, [...args, '--restore-from', 'latest'], join(t.dir, 'b.json'), env);
    const { code, result } = await b.exited;
    expect(code).toBe(0);
    expect(result?.status).toBe('FINISHED');
    expect(result?.restoredFrom).toBeLessThan(finalId);
    expect(compare(committedLines(t.output), expected)).toEqual({ duplicates: 0, missing: 0, unexpected: 0 });
    expect(committedLines(t.output)).toEqual(expected);
    await direct.close();
  });
  it('a final checkpoint whose _metadata write fails is retried: nothing visible before, FINISHED exactly once after', async () => {
    const t = fresh('retry-final');
    const to = 2_000;
    const job = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: `s3://${s3.bucket}/final`,
      s3: { endpoint: proxy.endpoint, region: s3.region, credentials: s3.credentials },
      // No periodic checkpoint after the first (triggered at the start): the final one stages the tails.
      params: { output: t.output, to, rate: 4_000, intervalMs: 60_000 },
    });
    const finals: number[] = [];
    // A checkpoint running when the input ended gets the final states too (and commits the tails).
    let completedAfterEnd = false;
    const failed: Array<{ id: number; visible: number }> = [];
    let failedWrites = 0;
    job.on('end-of-input', (e) => {
      finals.push(e.finalCheckpoint);
      if (finals.length > 1) return;
      // Armed synchronously at the trigger, long before the metadata write. The S3 client retries a
      // 500, so every attempt at the first final checkpoint's _metadata is failed.
      const isFirstFinal = (r: { method: string; path: string }) => r.method === 'PUT' && r.path.includes(`/${t.jobId}/chk-${e.finalCheckpoint}/_metadata`);
      void (async () => {
        for (;;) {
          const gate = proxy.hold(isFirstFinal);
          await gate.held();
          failedWrites++;
          gate.fail();
        }
      })();
    });
    job.on('checkpoint', (c) => {
      if (c.status === 'COMPLETED' && finals.length > 0 && c.id < finals[0]) completedAfterEnd = true;
      if (c.status === 'FAILED') failed.push({ id: c.id, visible: committedLines(t.output).length });
    });
    const result = await job.done;
    expect(result.status).toBe('FINISHED');
    expect(failedWrites).toBeGreaterThan(0);
    expect(finals).toHaveLength(2);
    expect(finals[1]).toBeGreaterThan(finals[0]);
    // When the first final checkpoint failed, the tails it staged were not visible.
    const first = failed.find((f) => f.id === finals[0]);
    expect(first).toBeDefined();
    if (!completedAfterEnd) expect(first!.visible).toBeLessThan(to);
    expect(result.checkpoints.find((c) => c.id === finals[1])?.status).toBe('COMPLETED');
    expect(committedLines(t.output)).toEqual(expectedSums(to));
  });
});
