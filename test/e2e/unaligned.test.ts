// Unaligned checkpoints under backpressure: in-flight data is checkpointed and replayed, output stays exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listCheckpoints, readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { type CheckpointStats, JobConfigError, type JobResult, runJob } from '../../src/index.ts';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-unaligned-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = jobDirs(root);

// A stage at 150 µs per record behind an 8 000 records/s source: channels into it stay full.
const params = (output: string) => ({ output, to: 8_000, mode: 'unaligned', slowMicros: 150, rate: 8_000 });
// Stop-and-resume tests: the input also advances only 1 000 numbers per checkpoint ended, so it
// cannot run out before the checkpoint they stop at, however busy the machine (with batches of 64,
// records queue in the slow stage's input: checkpoints hold in-flight data).
const pacing = (pacer: { dir: string }) => ({ pacedBy: pacer.dir, segment: 1_000 });
const paced = (output: string, pacer: { dir: string }) => ({ ...params(output), ...pacing(pacer) });

/**
 * Runs checkpointed-sum with `p` (8 000 records) and a worker thread killed at record 5 000 under
 * a fixedDelay restart; the restarted job must finish with output equal to one uninterrupted run.
 */
async function killedWorkerRun(t: ReturnType<typeof fresh>, p: Record<string, string | number | boolean>, onCheckpoint?: (c: CheckpointStats) => void): Promise<JobResult> {
  const job = await runJob(jobUrl('checkpointed-sum'), {
    jobId: t.jobId,
    parallelism: 2,
    checkpointStorage: t.storage,
    restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
    params: { ...p, to: 8_000, crashAt: 5_000, crashMarker: join(t.dir, 'crashed') },
  });
  if (onCheckpoint) job.on('checkpoint', onCheckpoint);
  const result = await job.done;
  expect(result.status).toBe('FINISHED');
  expect(result.attempts).toBe(2);
  expect(committedLines(t.output)).toEqual(expectedSums(8_000));
  return result;
}

describe('unaligned checkpoints', () => {
  // A stop at an unaligned checkpoint with in-flight data and a resume (exactly once, channel-state
  // files in storage) on worker threads: test/testing/fidelity.test.ts, beside the same in testJob.
  it('a worker killed under backpressure restarts from an unaligned checkpoint, output exactly once', async () => {
    const t = fresh('crash');
    await killedWorkerRun(t, params(t.output));
  });

  it('refuses to restore in-flight data at another parallelism, naming restoreFrom', async () => {
    const t = fresh('rescale');
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, batchSize: 64, params: paced(t.output, pacer) });
    first.on('checkpoint', pacer.ended);
    await new Promise<void>((resolve) => {
      first.on('checkpoint', (c) => {
        if (c.status === 'COMPLETED' && c.channelStateBytes > 0) resolve();
      });
    });
    await first.stop({ mode: 'suspend' });
    const job = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 3, checkpointStorage: t.storage, restoreFrom: 'latest', params: params(t.output) });
    const error = await job.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConfigError);
    expect((error as JobConfigError).option).toBe('restoreFrom');
    expect((error as Error).message).toMatch(/unaligned.*same parallelism/);
  });
});

describe('continuous spilling', () => {
  const spilling = (output: string) => ({ ...params(output), spill: 'continuous' });

  it('writes in-flight input as it arrives, checkpoints refer to it, and a resumed job continues exactly once', async () => {
    const t = fresh('spill-resume');
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, batchSize: 64, params: { ...spilling(t.output), ...pacing(pacer) } });
    first.on('checkpoint', pacer.ended);
    let spilled = 0;
    await new Promise<void>((resolve) => {
      first.on('checkpoint', (c) => {
        spilled += c.spilledBytes;
        if (c.status === 'COMPLETED' && c.id >= 2 && c.channelStateBytes > 0 && spilled > 0) resolve();
      });
    });
    const stopped = await first.stop({ mode: 'suspend' });
    expect(stopped.status).toBe('SUSPENDED');
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    const meta = await readMetadata(storage, stopped.stoppedAtCheckpoint!);
    const segments = (meta.channelState ?? []).flatMap((ref) => ref.segments ?? []);
    expect(segments.length).toBeGreaterThan(0);
    for (const id of segments) expect(await storage.exists(`shared/${id}`)).toBe(true);
    // Segments no retained checkpoint refers to were deleted by the workers.
    const referenced = new Set<string>();
    for (const entry of await listCheckpoints(storage)) {
      if (entry.status !== 'COMPLETED') continue;
      for (const ref of (await readMetadata(storage, entry.id)).channelState ?? []) for (const id of ref.segments ?? []) referenced.add(id);
    }
    const stored = (await storage.list('shared/')).map((k) => k.slice('shared/'.length)).filter((k) => k.startsWith('spill-'));
    expect(stored.filter((id) => !referenced.has(id))).toEqual([]);
    const resumed = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, restoreFrom: 'latest', batchSize: 64, params: { ...spilling(t.output), ...pacing(pacer) } });
    resumed.on('checkpoint', pacer.ended);
    expect((await resumed.done).status).toBe('FINISHED');
    expect(committedLines(t.output)).toEqual(expectedSums(8_000));
  });

  it('a worker killed under backpressure restarts from a spilled checkpoint, output exactly once', async () => {
    const t = fresh('spill-crash');
    await killedWorkerRun(t, spilling(t.output));
  });

  it('refuses spill settings outside unaligned mode, naming the option, before anything starts', async () => {
    const t = fresh('spill-config');
    const error = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, checkpointStorage: t.storage, params: { ...spilling(t.output), mode: 'aligned' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConfigError);
    expect((error as JobConfigError).option).toBe('enableCheckpointing unaligned');
  });
});

describe('alignment timeout', () => {
  /**
   * Each committed line once, with the running sum one uninterrupted run gives for its n (so every
   * earlier record of its key was counted exactly once). Not necessarily a prefix: records still
   * in flight at the final unaligned checkpoint are in its channel state, not in the output.
   */
  function expectExactlyOnceLines(lines: string[]) {
    const seen = new Set<number>();
    for (const line of lines) {
      const [key, n, sum] = line.split(',').map(Number);
      expect(seen.has(n)).toBe(false);
      seen.add(n);
      const m = Math.floor((n - key) / 7);
      // Sum of key, key+7, ..., n (n ≡ key mod 7; key 0 starts at 7).
      const first = key === 0 ? 7 : key;
      const count = key === 0 ? m : m + 1;
      expect(sum).toBe((count * (first + n)) / 2);
    }
    expect(seen.size).toBeGreaterThan(1_000);
  }

  it('switches a long alignment to unaligned, records which tasks switched, and stays exactly once', async () => {
    const t = fresh('timeout');
    // Timeout 0: an alignment not over within one turn of the event loop switches. The input is
    // practically endless, so the test waits for a switch instead of racing the end of the job.
    const p = { output: t.output, to: 1_000_000, slowMicros: 150, rate: 8_000, alignedTimeoutMs: 0 };
    const first = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: p });
    const switched: string[] = [];
    await new Promise<void>((resolve) => {
      first.on('checkpoint', (c) => {
        for (const task of c.tasks) if (task.unaligned) switched.push(task.task);
        // Switches now come from the first backpressured checkpoint on (the timeout counts from the
        // trigger): run on until the committed output is large enough to tell exactly-once apart
        // (counted, not timed: a busy machine processes fewer records per checkpoint).
        if (c.status === 'COMPLETED' && c.id >= 6 && switched.length > 0 && committedLines(t.output).length > 1_000) resolve();
      });
    });
    const stopped = await first.stop({ mode: 'suspend' });
    expect(stopped.status).toBe('SUSPENDED');
    const meta = await readMetadata(openStorage(`${t.storage}/${t.jobId}`), stopped.stoppedAtCheckpoint!);
    // Sources never align: they never switch.
    expect(meta.taskStats?.some((s) => s.uid === 'numbers' && !s.unaligned)).toBe(true);
    expect(meta.taskStats?.filter((s) => s.unaligned).every((s) => s.uid !== 'numbers')).toBe(true);
    const resumed = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      restoreFrom: 'latest',
      stopAfterCheckpoint: stopped.stoppedAtCheckpoint! + 2,
      params: p,
    });
    expect((await resumed.done).status).toBe('SUSPENDED');
    expectExactlyOnceLines(committedLines(t.output));
  });

  // The timeout counts from the checkpoint's trigger and is checked when a barrier is queued at a
  // task's input, not when it is processed: a barrier stuck behind backpressured data switches.
  const timeoutParams = (output: string) => ({ output, slowMicros: 150, rate: 8_000, alignedTimeoutMs: 20 });

  it('counts from the trigger: a single-input task whose barrier waits in its input queue switches too', async () => {
    const t = fresh('timeout-trigger');
    const job = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: { ...timeoutParams(t.output), to: 1_000_000 } });
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    // 'sum' heads a task of its own with one input (the source): it never aligns, so before the
    // timeout counted from the trigger it could not switch. Its metadata is read as soon as it is
    // written, while it is surely retained.
    const switched = await new Promise<Awaited<ReturnType<typeof readMetadata>> | undefined>((resolve, reject) => {
      const giveUp = setTimeout(() => resolve(undefined), 30_000);
      job.on('checkpoint', (c) => {
        if (c.status !== 'COMPLETED' || c.id < 2 || !c.tasks.some((s) => s.uid === 'sum' && s.unaligned)) return;
        clearTimeout(giveUp);
        readMetadata(storage, c.id).then(resolve, reject);
      });
    });
    await job.stop({ mode: 'suspend' });
    expect(switched).toBeDefined();
    const sum = switched!.taskStats?.filter((s) => s.uid === 'sum') ?? [];
    expect(sum.some((s) => s.unaligned)).toBe(true);
    // It switched without aligning (one input): the barrier was still queued, not being aligned.
    expect(sum.filter((s) => s.unaligned).every((s) => s.alignmentMs === 0)).toBe(true);
    expect(switched!.taskStats?.some((s) => s.uid === 'numbers' && !s.unaligned)).toBe(true);
    expect(switched!.channelState?.length).toBeGreaterThan(0);
  });

  it('a worker killed under backpressure restarts from a checkpoint whose tasks switched, output exactly once', async () => {
    const t = fresh('timeout-crash');
    const switchedIn = new Map<number, string[]>();
    const result = await killedWorkerRun(t, timeoutParams(t.output), (c) => {
      if (c.status === 'COMPLETED') switchedIn.set(c.id, c.tasks.filter((s) => s.unaligned).map((s) => s.uid));
    });
    // Checkpoints after the first were taken by switched single-input tasks.
    expect([...switchedIn.entries()].some(([id, uids]) => id >= 2 && uids.includes('sum'))).toBe(true);
    expect(result.restoredFrom).toBeDefined();
  });
});
