// Exactly-once checkpoints end to end: periodic checkpoints, stop and resume, rescaling, restarts after crashes.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptMetadataError } from '../../src/checkpoint/errors.ts';
import { metadataKey } from '../../src/checkpoint/layout.ts';
import { checkpointStatus, listCheckpoints, readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { runJob, type RunJobOptions } from '../../src/index.ts';
import { committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { expectedWindows } from './jobs/event-time-windows.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-checkpoints-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = jobDirs(root);

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
      const to = 6_000;
      const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: before, checkpointStorage: t.storage, params: { output: t.output, to } });
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
      expect(partial.length).toBeLessThan(to);
      const { result } = await run({ jobId: t.jobId, parallelism: after, checkpointStorage: t.storage, restoreFrom: 'latest', params: { output: t.output, to } });
      expect(result.restoredFrom).toBe(stopped.stoppedAtCheckpoint);
      expect(result.status).toBe('FINISHED');
      // Record for record what one uninterrupted run commits: nothing lost, nothing twice, sums continued.
      expect(committedLines(t.output)).toEqual(expectedSums(to));
    });
  }

  it('stopAfterCheckpoint ends the job right after that checkpoint', async () => {
    const t = fresh('after');
    const { result } = await run({ jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, stopAfterCheckpoint: 3, params: { output: t.output, to: 50_000 } });
    expect(result.status).toBe('SUSPENDED');
    expect(result.stoppedAtCheckpoint).toBe(3);
    const resumed = await run({ jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, restoreFrom: 3, stopAfterCheckpoint: 5, params: { output: t.output, to: 50_000 } });
    expect(resumed.result.stoppedAtCheckpoint).toBe(5);
    const lines = committedLines(t.output);
    const expected = new Set(expectedSums(50_000));
    // Exactly a prefix of the sequence was committed, each line once (a Set: 50 000 lines searched
    // in an array took minutes on a busy machine).
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.filter((line) => !expected.has(line))).toEqual([]);
    const ns = lines.map((l) => Number(l.split(',')[1])).sort((a, b) => a - b);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
  });
});

describe('failures', () => {
  for (const crashAt of [150, 1_400, 2_900]) {
    it(`a worker thread killed at record ${crashAt} is restarted from the last checkpoint, output exactly once`, async () => {
      const t = fresh('crash');
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
    expect(latest).toMatchObject({ code: 'BATON_ERR_CORRUPT_CHECKPOINT', checkpointId: 3, key: 'chk-3/_metadata', reason: 'checksum' });
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
      const to = 6_000;
      const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage, s3: s3Options, params: { output: t.output, to } });
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
      const { result } = await run({ jobId: t.jobId, parallelism: 1, checkpointStorage, s3: s3Options, restoreFrom: 'latest', params: { output: t.output, to } });
      expect(result.restoredFrom).toBe(stopped.stoppedAtCheckpoint);
      expect(committedLines(t.output)).toEqual(expectedSums(to));
      await storage.close();
    } finally {
      await s3.close();
    }
  });
});

describe('windows and timers across a stop and resume', () => {
  const count = 20_000;
  const expected = () => expectedWindows(count);


  it('restores window contents and their timers: every window is emitted once with the full aggregate', async () => {
    const t = fresh('windows');
    const options = { jobId: t.jobId, checkpointStorage: t.storage, params: { output: t.output, count } };
    const first = await runJob(jobUrl('checkpointed-windows'), { ...options, parallelism: 2 });
    await new Promise<void>((resolve) => {
      first.on('checkpoint', (c) => {
        if (c.status === 'COMPLETED' && c.id >= 3) resolve();
      });
    });
    const stopped = await first.stop({ mode: 'suspend' });
    expect(stopped.status).toBe('SUSPENDED');
    const resumed = await runJob(jobUrl('checkpointed-windows'), { ...options, parallelism: 3, restoreFrom: 'latest' });
    const result = await resumed.done;
    expect(result.status).toBe('FINISHED');
    expect(committedLines(t.output)).toEqual(expected());
  });

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
  /** Final sum per key is order-independent; the multiset of n per key must be exact. */
  function checkUnion(lines: string[], to: number) {
    const seen = new Set<number>();
    const finals = new Map<number, number>();
    for (const line of lines) {
      const [key, n, sum] = line.split(',').map(Number);
      expect(seen.has(n)).toBe(false);
      seen.add(n);
      expect(key).toBe(n % 5);
      finals.set(key, Math.max(finals.get(key) ?? 0, sum));
    }
    expect(seen.size).toBe(to);
    for (let key = 0; key < 5; key++) {
      let total = 0;
      for (let n = 1; n <= to; n++) if (n % 5 === key) total += n;
      expect(finals.get(key)).toBe(total);
    }
  }

  it('aligns barriers of two inputs: stop and resume at another parallelism loses and repeats nothing', async () => {
    const t = fresh('union');
    const options = { jobId: t.jobId, checkpointStorage: t.storage, params: { output: t.output, to: 4_000 } };
    const first = await runJob(jobUrl('checkpointed-union'), { ...options, parallelism: 2 });
    await new Promise<void>((resolve) => {
      first.on('checkpoint', (c) => {
        if (c.status === 'COMPLETED' && c.id >= 3) resolve();
      });
    });
    await first.stop({ mode: 'suspend' });
    const { result } = await (async () => {
      const job = await runJob(jobUrl('checkpointed-union'), { ...options, parallelism: 3, restoreFrom: 'latest' });
      return { result: await job.done };
    })();
    expect(result.status).toBe('FINISHED');
    checkUnion(committedLines(t.output), 4_000);
  });

  it('a storage error during chunk upload fails that checkpoint (FAILED in storage) and the job goes on exactly once', async () => {
    const t = fresh('storage-error');
    const storageDir = join(t.dir, 'checkpoints', t.jobId);
    const job = await runJob(jobUrl('checkpointed-union'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: { output: t.output, to: 4_000, rate: 4_000 } });
    const failed: number[] = [];
    let broken = false;
    job.on('checkpoint', (c) => {
      if (c.status === 'FAILED') failed.push(c.id);
      if (c.status === 'COMPLETED' && c.id >= 2 && !broken) {
        broken = true;
        // `shared` becomes a file: every chunk upload now fails with ENOTDIR.
        rmSync(join(storageDir, 'shared'), { recursive: true, force: true });
        writeFileSync(join(storageDir, 'shared'), 'not a directory');
        setTimeout(() => rmSync(join(storageDir, 'shared'), { force: true }), 150);
      }
    });
    const result = await job.done;
    expect(result.status).toBe('FINISHED');
    expect(failed.length).toBeGreaterThan(0);
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    expect(['FAILED', 'UNKNOWN']).toContain(await checkpointStatus(storage, failed[0]));
    expect(result.checkpoints.filter((c) => c.status === 'COMPLETED' && c.id > failed[0]).length).toBeGreaterThan(0);
    checkUnion(committedLines(t.output), 4_000);
  });
});

describe('incremental chains', () => {
  it('grow by one delta per checkpoint and are materialized into a new base after maxDeltas', async () => {
    const t = fresh('chains');
    const { result } = await run({ jobId: t.jobId, parallelism: 1, checkpointStorage: t.storage, stopAfterCheckpoint: 6, params: { output: t.output, to: 100_000, maxDeltas: 2 } });
    expect(result.stoppedAtCheckpoint).toBe(6);
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    const chains = [];
    for (const id of [4, 5, 6]) {
      const meta = await readMetadata(storage, id);
      const sum = meta.operators.find((o) => o.uid === 'sum')!;
      chains.push(sum.keyed[0].chain.map((c) => c.kind));
    }
    // Checkpoints 1..6 with at most 2 deltas per base: base | base,delta | base,delta,delta | base | ...
    expect(chains).toEqual([['base'], ['base', 'delta'], ['base', 'delta', 'delta']]);
    const bases = new Set((await storage.list('shared/')).filter((k) => k.includes('-base-')));
    expect(bases.size).toBeGreaterThanOrEqual(1);
  });
});
