// Exactly-once checkpoints end to end: periodic checkpoints, stop and resume, rescaling, restarts after crashes.
// Checkpoint semantics that need no threads (windows and timers across a restore, incremental
// chains) run in testJob: test/runtime/job-semantics.test.ts.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptMetadataError } from '../../src/checkpoint/errors.ts';
import { metadataKey } from '../../src/checkpoint/layout.ts';
import { checkpointStatus, listCheckpoints } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { runJob, type RunJobOptions } from '../../src/index.ts';
import { committedLines, expectedSums, expectedSumsPrefix, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-checkpoints-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = jobDirs(root);
/** A sequence end no test run reaches (12 000 records/s by default): such a run ends by a stop. */
const UNENDING = 100_000_000;

async function run(options: RunJobOptions) {
  const job = await runJob(jobUrl('checkpointed-sum'), options);
  return { job, result: await job.done };
}

describe('periodic checkpoints', () => {
  it('completes checkpoints with metadata in storage and commits exactly the expected output', async () => {
    const t = fresh('periodic');
    const { job, result } = await run({ jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: { output: t.output, to: 3_000 } });
    expect(result.status).toBe('FINISHED');
    const completed = result.checkpoints.filter((c) => c.status === 'COMPLETED');
    expect(completed.length).toBeGreaterThanOrEqual(2);
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    const listed = await listCheckpoints(storage);
    // Only the retained ones are left, and each reads COMPLETED from storage alone.
    expect(listed.filter((c) => c.status === 'COMPLETED').length).toBeLessThanOrEqual(3);
    expect(await checkpointStatus(storage, completed.at(-1)!.id)).toBe('COMPLETED');
    expect(committedLines(t.output)).toEqual(expectedSums(3_000));
    expect(job.liveWorkerThreads()).toBe(0);
  });
});

describe('stop with checkpoint and resume', () => {
  for (const [before, after] of [
    [2, 2],
    [2, 1],
    [1, 3],
  ] as const) {
    it(`suspends at a checkpoint and a resumed job (parallelism ${before} → ${after}) continues exactly once`, async () => {
      const t = fresh('stop');
      // Input that cannot run out while the test waits for a checkpoint, however busy the machine:
      // the stop, not the end of input, ends the first run; the resumed run stops two checkpoints on.
      const params = { output: t.output, to: UNENDING };
      const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: before, checkpointStorage: t.storage, params });
      await new Promise<void>((resolve) => {
        first.on('checkpoint', (c) => {
          if (c.status === 'COMPLETED' && c.id >= 2) resolve();
        });
      });
      const stopped = await first.stop({ mode: 'suspend' });
      expect(stopped.status).toBe('SUSPENDED');
      expect(stopped.stoppedAtCheckpoint).toBeGreaterThanOrEqual(3);
      const partial = committedLines(t.output);
      expect(partial.length).toBeGreaterThan(0);
      expect(partial).toEqual(expectedSumsPrefix(partial));
      const until = stopped.stoppedAtCheckpoint! + 2;
      const { result } = await run({ jobId: t.jobId, parallelism: after, checkpointStorage: t.storage, restoreFrom: 'latest', stopAfterCheckpoint: until, params });
      expect(result.restoredFrom).toBe(stopped.stoppedAtCheckpoint);
      expect(result.status).toBe('SUSPENDED');
      expect(result.stoppedAtCheckpoint).toBe(until);
      // Record for record what one uninterrupted run commits up to there: nothing lost, nothing twice, sums continued.
      const lines = committedLines(t.output);
      expect(lines.length).toBeGreaterThan(partial.length);
      expect(lines).toEqual(expectedSumsPrefix(lines));
    });
  }

  it('stopAfterCheckpoint ends the job right after that checkpoint', async () => {
    const t = fresh('after');
    const params = { output: t.output, to: UNENDING };
    const { result } = await run({ jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, stopAfterCheckpoint: 3, params });
    expect(result.status).toBe('SUSPENDED');
    expect(result.stoppedAtCheckpoint).toBe(3);
    const resumed = await run({ jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, restoreFrom: 3, stopAfterCheckpoint: 5, params });
    expect(resumed.result.stoppedAtCheckpoint).toBe(5);
    // Exactly a prefix of the sequence was committed, each line once, sums continued.
    const lines = committedLines(t.output);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines).toEqual(expectedSumsPrefix(lines));
  });
});

describe('failures', () => {
  for (const crashAt of [150, 1_400, 2_900]) {
    it(`a worker thread killed at record ${crashAt} is restarted from the last checkpoint, output exactly once`, async () => {
      const t = fresh('crash');
      // The crash marker's directory must exist before record 150, which can come before the
      // first checkpoint creates anything under it (else the marker write fails: a third attempt).
      mkdirSync(t.dir, { recursive: true });
      const marker = join(t.dir, 'crashed');
      const { result } = await run({
        jobId: t.jobId,
        parallelism: 2,
        checkpointStorage: t.storage,
        restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
        params: { output: t.output, to: 3_000, crashAt, crashMarker: marker },
      });
      expect(result.status).toBe('FINISHED');
      expect(result.attempts).toBe(2);
      expect(result.statusHistory.map((e) => e.status)).toContain('RESTARTING');
      expect(committedLines(t.output)).toEqual(expectedSums(3_000));
    });
  }

  it('without a restart strategy the crash fails the job and leaves only committed output', async () => {
    const t = fresh('nostrategy');
    const job = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: { output: t.output, to: 3_000, crashAt: 1_500, crashMarker: join(t.dir, 'm') } });
    await expect(job.done).rejects.toThrow(/worker \d/);
    const lines = committedLines(t.output);
    expect(lines.length).toBeLessThan(1_500);
    const expected = new Set(expectedSums(3_000));
    for (const line of lines) expect(expected.has(line)).toBe(true);
  });

  it("restore from 'latest' refuses a corrupt newest checkpoint (its output is committed) instead of falling back; 'latest-valid' falls back, warns and reports", async () => {
    const t = fresh('corrupt');
    // Long enough that checkpoint 3 comes before the end of input even on a busy machine.
    const to = 20_000;
    const params = { output: t.output, to };
    const first = await run({ jobId: t.jobId, parallelism: 1, checkpointStorage: t.storage, stopAfterCheckpoint: 3, params });
    expect(first.result.stoppedAtCheckpoint).toBe(3);
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    const good = await storage.get(metadataKey(3));
    const bad = Uint8Array.from(good);
    bad[bad.length - 1] ^= 0xff;
    await storage.put(metadataKey(3), bad);
    // The same damaged directory under another job id, for the fallback below.
    const copyId = `${t.jobId}-copy`;
    cpSync(join(t.dir, 'checkpoints', t.jobId), join(t.dir, 'checkpoints', copyId), { recursive: true });
    const committed = committedLines(t.output);
    expect(committed.length).toBeGreaterThan(0);

    // Not a silent restore of checkpoint 2 (whose successor's output is already committed): an error naming 3.
    const latest = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, checkpointStorage: t.storage, restoreFrom: 'latest', params }).then((j) => j.done).catch((e: unknown) => e);
    expect(latest).toBeInstanceOf(CorruptMetadataError);
    expect(latest).toMatchObject({ code: 'BATON_ERR_CORRUPT_METADATA', checkpointId: 3, key: 'chk-3/_metadata', reason: 'checksum' });
    expect((latest as Error).message).toMatch(/chk-3\/_metadata of checkpoint 3 \(checksum\)/);
    // Nothing was restored, so nothing was committed twice.
    expect(committedLines(t.output)).toEqual(committed);
    expect(await checkpointStatus(storage, 3, { verify: true })).toBe('CORRUPT');

    // Asked for explicitly, the fallback restores 2 and says, in an event and in the result, what it passed over.
    const warnings: string[] = [];
    const fallback = await runJob(jobUrl('checkpointed-sum'), { jobId: copyId, checkpointStorage: t.storage, restoreFrom: 'latest-valid', params: { output: join(t.dir, 'out2'), to } });
    fallback.on('restore-fallback', (r) => warnings.push(r.message));
    const fell = await fallback.done;
    expect(fell.restoredFrom).toBe(2);
    expect(fell.restore?.checkpointId).toBe(2);
    expect(fell.restore?.skipped.map((s) => s.id)).toEqual([3]);
    expect(fell.restore?.skipped[0].reason).toMatch(/checksum/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/chk-3.*restoring checkpoint 2.*may repeat/);

    // The damage repaired, 'latest' continues from 3: record for record one uninterrupted run.
    await storage.put(metadataKey(3), good);
    const resumed = await run({ jobId: t.jobId, checkpointStorage: t.storage, restoreFrom: 'latest', params });
    expect(resumed.result.restoredFrom).toBe(3);
    expect(resumed.result.restore).toBeUndefined();
    expect(committedLines(t.output)).toEqual(expectedSums(to));
    await storage.close();
  });
});

describe('on S3 (s3rver on 127.0.0.1)', () => {
  it('stops, resumes at another parallelism and commits exactly once, with all checkpoint files in the bucket', async () => {
    const { startS3rver } = await import('../support/s3rver.ts');
    const s3 = await startS3rver();
    try {
      const t = fresh('s3');
      const checkpointStorage = `s3://${s3.bucket}/checkpoints`;
      const s3Options = { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials };
      const params = { output: t.output, to: UNENDING };
      const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage, s3: s3Options, params });
      await new Promise<void>((resolve) => {
        first.on('checkpoint', (c) => {
          if (c.status === 'COMPLETED' && c.id >= 2) resolve();
        });
      });
      const stopped = await first.stop({ mode: 'suspend' });
      expect(stopped.status).toBe('SUSPENDED');
      const storage = openStorage(`${checkpointStorage}/${t.jobId}`, { s3: s3Options });
      expect(await checkpointStatus(storage, stopped.stoppedAtCheckpoint!)).toBe('COMPLETED');
      expect((await storage.list('shared/')).length).toBeGreaterThan(0);
      const until = stopped.stoppedAtCheckpoint! + 2;
      const { result } = await run({ jobId: t.jobId, parallelism: 1, checkpointStorage, s3: s3Options, restoreFrom: 'latest', stopAfterCheckpoint: until, params });
      expect(result.restoredFrom).toBe(stopped.stoppedAtCheckpoint);
      expect(result.stoppedAtCheckpoint).toBe(until);
      const lines = committedLines(t.output);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines).toEqual(expectedSumsPrefix(lines));
      await storage.close();
    } finally {
      await s3.close();
    }
  });
});

describe('windows and timers across a stop', () => {
  // Window contents and timers across a checkpoint and a restore at another parallelism: in
  // testJob, test/runtime/job-semantics.test.ts. Terminate stays here: the stop protocol on threads.
  it('terminate fires the open windows before its final checkpoint and ends FINISHED', async () => {
    const t = fresh('terminate');
    const job = await runJob(jobUrl('checkpointed-windows'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: { output: t.output, count: 1_000_000, rate: 20_000 } });
    await new Promise<void>((resolve) => {
      job.on('checkpoint', (c) => {
        if (c.status === 'COMPLETED' && c.id >= 2) resolve();
      });
    });
    const result = await job.stop({ mode: 'terminate' });
    expect(result.status).toBe('FINISHED');
    const windows = committedLines(t.output).map((l) => JSON.parse(l) as { clicks: number });
    const read = result.operators.clicks.recordsOut;
    // Every click read before the final barrier is in exactly one committed window.
    expect(windows.reduce((a, w) => a + w.clicks, 0)).toBe(read);
    expect(read).toBeGreaterThan(0);
  });
});

describe('alignment and storage failures', () => {
  /**
   * The first `odd` odd and `even` even numbers, each once, and each key's final sum over exactly
   * them (running sums depend on how the two inputs interleave; the final ones do not).
   */
  function checkUnionRead(lines: string[], odd: number, even: number) {
    const seen = new Set<number>();
    const finals = new Map<number, number>();
    for (const line of lines) {
      const [key, n, sum] = line.split(',').map(Number);
      expect(seen.has(n)).toBe(false);
      seen.add(n);
      expect(key).toBe(n % 5);
      finals.set(key, Math.max(finals.get(key) ?? 0, sum));
    }
    const expected = [...Array.from({ length: odd }, (_, i) => 2 * i + 1), ...Array.from({ length: even }, (_, i) => 2 * i + 2)];
    expect(odd).toBeGreaterThan(0);
    expect(even).toBeGreaterThan(0);
    expect([...seen].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    const totals = new Map<number, number>();
    for (const n of expected) totals.set(n % 5, (totals.get(n % 5) ?? 0) + n);
    expect(finals).toEqual(totals);
  }

  it('aligns barriers of two inputs: stop and resume at another parallelism loses and repeats nothing', async () => {
    const t = fresh('union');
    // Input that cannot run out while the test waits: a stop ends each run, so what the sources read
    // decides what must have been committed (odd and even numbers each from their start, once).
    const options = { jobId: t.jobId, checkpointStorage: t.storage, params: { output: t.output, to: UNENDING } };
    const first = await runJob(jobUrl('checkpointed-union'), { ...options, parallelism: 2 });
    await new Promise<void>((resolve) => {
      first.on('checkpoint', (c) => {
        if (c.status === 'COMPLETED' && c.id >= 3) resolve();
      });
    });
    const stopped = await first.stop({ mode: 'suspend' });
    const job = await runJob(jobUrl('checkpointed-union'), { ...options, parallelism: 3, restoreFrom: 'latest', stopAfterCheckpoint: stopped.stoppedAtCheckpoint! + 2 });
    const result = await job.done;
    expect(result.status).toBe('SUSPENDED');
    const odd = stopped.operators['to-odd'].recordsOut + result.operators['to-odd'].recordsOut;
    const even = stopped.operators['to-even'].recordsOut + result.operators['to-even'].recordsOut;
    checkUnionRead(committedLines(t.output), odd, even);
  });

  it('a storage error during chunk upload fails that checkpoint (FAILED in storage) and the job goes on exactly once', async () => {
    const t = fresh('storage-error');
    const storageDir = join(t.dir, 'checkpoints', t.jobId);
    // The sources read on only as checkpoints end (200 numbers each per checkpoint): the input
    // outlasts a failed checkpoint and a completed one after it, however slow the machine.
    const paced = join(t.dir, 'paced');
    mkdirSync(paced, { recursive: true });
    const job = await runJob(jobUrl('checkpointed-union'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: { output: t.output, to: 4_000, pacedBy: paced } });
    const failed: number[] = [];
    let broken = false;
    let ended = 0;
    job.on('checkpoint', () => writeFileSync(join(paced, `completed-${++ended}`), ''));
    job.on('checkpoint', (c) => {
      if (c.status === 'FAILED') {
        // Storage is repaired once a checkpoint failed on it (an event, not a guessed duration).
        if (failed.length === 0) rmSync(join(storageDir, 'shared'), { force: true });
        failed.push(c.id);
      }
      if (c.status === 'COMPLETED' && c.id >= 2 && !broken) {
        broken = true;
        // `shared` becomes a file: every chunk upload now fails with ENOTDIR.
        rmSync(join(storageDir, 'shared'), { recursive: true, force: true });
        writeFileSync(join(storageDir, 'shared'), 'not a directory');
      }
    });
    const result = await job.done;
    expect(result.status).toBe('FINISHED');
    expect(failed.length).toBeGreaterThan(0);
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    expect(['FAILED', 'UNKNOWN']).toContain(await checkpointStatus(storage, failed[0]));
    expect(result.checkpoints.filter((c) => c.status === 'COMPLETED' && c.id > failed[0]).length).toBeGreaterThan(0);
    checkUnionRead(committedLines(t.output), 2_000, 2_000);
  });
});
