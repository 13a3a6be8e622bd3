// Storage faults: a faulty S3 (500/503, stalls, resets, truncated bodies) and a failing disk (EIO, ENOSPC).
// Checkpoints complete correctly or fail cleanly, the job keeps running, the restore afterwards is exactly once.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkIdsOf } from '../../src/checkpoint/registry/shared-chunk-registry.ts';
import { listCheckpoints, readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { type CheckpointStorage, openStorage, worstCaseMs } from '../../src/checkpoint/storage/index.ts';
import { type JobHandle, runJob, type RunJobOptions } from '../../src/index.ts';
import { CheckpointFailuresExceededError } from '../../src/runtime/errors.ts';
import { FAULT_KINDS, type S3FaultProxy, startS3FaultProxy } from '../support/s3-fault-proxy.ts';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { faultSeed } from '../support/seeded-random.ts';
import { checkpointPacer, committedLines, expectedSums, expectedSumsPrefix, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-storage-faults-'));
const fresh = jobDirs(root);
const seed = faultSeed();
const keys = 50;
const to = 20_000;
/**
 * Small deadlines, so a stalled request costs little; enough attempts that a call fails only when
 * four tries in a row hit a fault (0.15^4): the job's start-up reads must not fail the test.
 */
const storageTimeouts = { requestMs: 1_500, attempts: 4, backoffMs: 20 };

let s3: S3rverHandle;
let proxy: S3FaultProxy;

beforeAll(async () => {
  console.log(`storage faults: seed ${seed} (replay with BATON_FAULT_SEED=${seed})`);
  s3 = await startS3rver();
  proxy = await startS3FaultProxy(s3.endpoint, seed);
});

afterAll(async () => {
  await proxy?.close();
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Outcomes {
  completed: number;
  failed: number;
  readonly reasons: string[];
}

/** Counts the job's checkpoint events; resolves `until` once `enough` says so. */
function watchCheckpoints(job: JobHandle, enough: (o: Outcomes) => boolean): { outcomes: Outcomes; until: Promise<void> } {
  const outcomes: Outcomes = { completed: 0, failed: 0, reasons: [] };
  const until = new Promise<void>((resolve) => {
    job.on('checkpoint', (c: { status: string; failure?: string }) => {
      if (c.status === 'COMPLETED') outcomes.completed++;
      else {
        outcomes.failed++;
        outcomes.reasons.push(c.failure ?? '?');
      }
      if (enough(outcomes)) resolve();
    });
  });
  return { outcomes, until };
}

/** Every checkpoint in storage is COMPLETED with readable metadata and every file it names present, or not completed at all. */
async function checkStorage(storage: CheckpointStorage): Promise<{ completed: number; notCompleted: number }> {
  let completed = 0;
  let notCompleted = 0;
  for (const entry of await listCheckpoints(storage)) {
    if (entry.status !== 'COMPLETED') {
      notCompleted++;
      continue;
    }
    completed++;
    const metadata = await readMetadata(storage, entry.id);
    for (const id of chunkIdsOf(metadata)) expect(await storage.exists(`shared/${id}`), `chk-${entry.id} needs shared/${id} (seed ${seed})`).toBe(true);
    for (const file of metadata.exclusiveFiles) expect(await storage.exists(`chk-${entry.id}/${file}`), `chk-${entry.id}/${file} (seed ${seed})`).toBe(true);
  }
  return { completed, notCompleted };
}

const baseParams = (output: string) => ({ output, to, rate: 2_000, keys, intervalMs: 60, tolerableFailures: 1_000, checkpointTimeoutMs: 8_000 });

/** Numbers the input reads per ended checkpoint: however slow the machine, it cannot run out before the checkpoints a test waits for. */
const SEGMENT = 250;

/**
 * Params of a job whose input advances one segment per checkpoint that ends (completed or failed)
 * and is released whole for the restore, with the pacer that does it.
 */
function pacedParams(t: { output: string; dir: string }) {
  const pacer = checkpointPacer(join(t.dir, 'paced'));
  const { rate: _unpaced, ...base } = baseParams(t.output);
  const params = { ...base, pacedBy: pacer.dir, segment: SEGMENT };
  const releaseAll = () => {
    for (let i = 0; i <= to / SEGMENT; i++) pacer.ended();
  };
  return { pacer, params, releaseAll };
}
describe('a checkpointed job on a faulty S3', () => {
  it('completes or cleanly fails each checkpoint through 500/503, stalls, resets and truncated bodies; the restore is exactly once', async () => {
    const t = fresh('s3-faults');
    const s3Options = { endpoint: proxy.endpoint, region: s3.region, credentials: s3.credentials };
    const options: RunJobOptions = { jobId: t.jobId, parallelism: 2, checkpointStorage: `s3://${s3.bucket}/faults`, s3: s3Options, storageTimeouts };
    const before = { ...proxy.injected };
    proxy.setPlan({ rate: 0.15, kinds: FAULT_KINDS });
    const paced = pacedParams(t);
    const job = await runJob(jobUrl('checkpointed-sum'), { ...options, params: paced.params });
    job.on('checkpoint', paced.pacer.ended);
    const { outcomes, until } = watchCheckpoints(job, (o) => o.completed >= 4 && (o.failed >= 1 || o.completed >= 8));
    await until;
    const stopped = await job.stop({ mode: 'suspend' });
    expect(stopped.status, `seed ${seed}`).toBe('SUSPENDED');

    // The same requests again, now answered by a healthy store: what storage says must hold.
    proxy.setPlan(undefined);
    const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, proxy.injected[k] - before[k]]));
    const storage = openStorage(`s3://${s3.bucket}/faults/${t.jobId}`, { s3: { ...s3Options, endpoint: s3.endpoint } });
    const census = await checkStorage(storage);
    await storage.close();
    console.log(`S3 faults injected ${JSON.stringify(injected)}; checkpoints ${outcomes.completed} completed, ${outcomes.failed} failed; in storage ${JSON.stringify(census)}`);
    for (const reason of outcomes.reasons) expect(reason).toMatch(/storage|timed out|declined/);
    expect(census.completed).toBeGreaterThan(0);

    // The restore reads through truncated bodies and 500s; the output equals one uninterrupted run.
    proxy.setPlan({ rate: 0.15, kinds: ['truncate', '500'] });
    paced.releaseAll();
    const resumed = await runJob(jobUrl('checkpointed-sum'), { ...options, restoreFrom: 'latest', params: paced.params });
    expect((await resumed.done).status, `seed ${seed}`).toBe('FINISHED');
    proxy.setPlan(undefined);
    console.log(`S3 faults injected during the restore: truncate ${proxy.injected.truncate - before.truncate - injected.truncate}, 500 ${proxy.injected['500'] - before['500'] - injected['500']}`);
    expect(committedLines(t.output), `seed ${seed}`).toEqual(expectedSums(to, keys));
  }, 120_000);

  it('with a stalled store at the end of input, the final checkpoint fails within the storage bounds and the job fails instead of waiting; nothing uncovered is committed', async () => {
    const t = fresh('s3-stall');
    const quick = { requestMs: 1_000, attempts: 2, backoffMs: 10 };
    const options: RunJobOptions = {
      jobId: t.jobId,
      parallelism: 1,
      checkpointStorage: `s3://${s3.bucket}/stall`,
      s3: { endpoint: proxy.endpoint, region: s3.region, credentials: s3.credentials },
      storageTimeouts: quick,
    };
    const job = await runJob(jobUrl('checkpointed-sum'), { ...options, params: { ...baseParams(t.output), to: 5_000, rate: 1_000, tolerableFailures: 2 } });
    const { outcomes, until } = watchCheckpoints(job, (o) => o.completed >= 1);
    const first = await Promise.race([until.then(() => 'completed'), job.done.then((r) => `ended ${r.status} before`)]);
    expect(first, 'a checkpoint completes before the input ends').toBe('completed');
    // The store stops answering writes of `_metadata` while the rest of the input is processed:
    // every later checkpoint, the final one too, hangs between its uploads and its completion.
    proxy.setPlan({ rate: 1, kinds: ['stall'], match: (r) => r.method === 'PUT' && r.path.includes('/_metadata') });
    const stalledAt = Date.now();
    const ended = await job.done.then(
      (r) => r.status as string,
      (e: unknown) => e as Error,
    );
    const waited = Date.now() - stalledAt;
    proxy.setPlan(undefined);
    console.log(`stalled store: job ended after ${waited} ms (${String(ended)}); checkpoint failures: ${JSON.stringify(outcomes.reasons)}`);
    // The job cannot finish without its final checkpoint: it fails once tolerableFailures are used up.
    expect(ended).toBeInstanceOf(CheckpointFailuresExceededError);
    expect((ended as Error).message).toMatch(/storage put of '.*chk-\d+\/_metadata'.*timed out/);
    expect(outcomes.reasons.some((r) => /timed out/.test(r))).toBe(true);
    // Bounded: a few checkpoints' bounded metadata writes plus the input still to read (about 4 s).
    expect(waited).toBeLessThan(10 * worstCaseMs(quick) + 10_000);
    // Only what completed checkpoints cover is visible: a prefix of one uninterrupted run.
    const lines = committedLines(t.output);
    expect(lines).toEqual(expectedSumsPrefix(lines, keys));
    expect(lines.length).toBeLessThan(5_000);
  }, 90_000);
  it('a stop with a stalled store fails the job within the storage bounds, naming the storage call', async () => {
    const t = fresh('s3-stop-stall');
    const quick = { requestMs: 1_000, attempts: 2, backoffMs: 10 };
    const job = await runJob(jobUrl('checkpointed-sum'), {
      jobId: t.jobId,
      parallelism: 1,
      checkpointStorage: `s3://${s3.bucket}/stop-stall`,
      s3: { endpoint: proxy.endpoint, region: s3.region, credentials: s3.credentials },
      storageTimeouts: quick,
      params: { ...baseParams(t.output), tolerableFailures: 2 },
    });
    const { until } = watchCheckpoints(job, (o) => o.completed >= 1);
    await until;
    proxy.setPlan({ rate: 1, kinds: ['stall'], match: (r) => r.method === 'PUT' && r.path.includes('/_metadata') });
    const stoppedAt = Date.now();
    const error = await job.stop({ mode: 'suspend' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const waited = Date.now() - stoppedAt;
    proxy.setPlan(undefined);
    console.log(`stop on a stalled store: ${error?.message} after ${waited} ms`);
    expect(job.status).toBe('FAILED');
    expect(error).toBeInstanceOf(CheckpointFailuresExceededError);
    expect(error?.message).toMatch(/storage put of '.*chk-\d+\/_metadata'.*timed out/);
    // At most tolerableFailures + 1 stop checkpoints, each failing after its bounded metadata write.
    expect(waited).toBeLessThan(3 * worstCaseMs(quick) + 10_000);
  }, 90_000);
});

describe('a checkpointed job on a failing disk', () => {
  it('fails checkpoints whose writes hit EIO or ENOSPC, keeps running, and the restore is exactly once', async () => {
    const t = fresh('disk-faults');
    // The fault log's directory exists before the first write can fail (else that write fails with ENOENT instead).
    mkdirSync(t.dir, { recursive: true });
    const faultLog = join(t.dir, 'faults.log');
    const dir = join(t.dir, 'checkpoints');
    const options = { jobId: t.jobId, parallelism: 2 };
    const paced = pacedParams(t);
    const job = await runJob(jobUrl('checkpointed-sum'), {
      ...options,
      checkpointStorage: `faultyfile://${dir}`,
      params: { ...paced.params, fileFaultRate: 0.15, faultSeed: seed, faultLog },
    });
    job.on('checkpoint', paced.pacer.ended);
    const { outcomes, until } = watchCheckpoints(job, (o) => o.completed >= 4 && o.failed >= 2);
    await until;
    const stopped = await job.stop({ mode: 'suspend' });
    expect(stopped.status, `seed ${seed}`).toBe('SUSPENDED');

    const lines = existsSync(faultLog) ? readFileSync(faultLog, 'utf8').split('\n').filter(Boolean) : [];
    const injected = { EIO: lines.filter((l) => l.startsWith('EIO ')).length, ENOSPC: lines.filter((l) => l.startsWith('ENOSPC ')).length };
    const storage = openStorage(`${dir}/${t.jobId}`);
    const census = await checkStorage(storage);
    console.log(`disk faults injected ${JSON.stringify(injected)}; checkpoints ${outcomes.completed} completed, ${outcomes.failed} failed; in storage ${JSON.stringify(census)}`);
    expect(injected.EIO + injected.ENOSPC).toBeGreaterThan(0);
    for (const reason of outcomes.reasons) expect(reason, `seed ${seed}`).toMatch(/EIO|ENOSPC/);

    paced.releaseAll();
    const resumed = await runJob(jobUrl('checkpointed-sum'), {
      ...options,
      checkpointStorage: `file://${dir}`,
      restoreFrom: 'latest',
      params: paced.params,
    });
    expect((await resumed.done).status, `seed ${seed}`).toBe('FINISHED');
    expect(committedLines(t.output), `seed ${seed}`).toEqual(expectedSums(to, keys));
  }, 120_000);
});
