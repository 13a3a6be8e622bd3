// Fail fast: a restore or handover that storage alone rules out fails before any worker thread
// starts, a missing checkpoint is never taken for "start empty" unless asked, and every run says
// which checkpoint it restored (or that it started empty).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointNotFoundError,
  CorruptMetadataError,
  HandoverTargetPassedError,
  type JobResult,
  JobModuleError,
  JobModuleNotFoundError,
  latestCompleted,
  NoCheckpointToRestoreError,
  openStorage,
  runJob,
  type RestoreEvent,
  type RunJobOptions,
  StaleHandoverTargetError,
} from '../../src/index.ts';
import { restoreMessage } from '../../src/runtime/coordinator/restore-event.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-fail-fast-'));
const storage = pathToFileURL(join(root, 'store')).href;
let markers = 0;

/** A fresh marker file: it exists afterwards only if a worker thread built the job's graph. */
function marker(): string {
  return join(root, `marker-${++markers}`);
}

/** Runs the job; resolves with the result or the error, the statuses it went through and its restore events. */
async function attempt(options: RunJobOptions & { params: { marker: string } & RunJobOptions['params'] }) {
  const job = await runJob(jobUrl('thread-marked'), options);
  const restores: RestoreEvent[] = [];
  job.on('restore', (e) => restores.push(e));
  const outcome: JobResult | Error = await job.done.catch((e: Error) => e);
  return { outcome, statuses: job.statusHistory.map((s) => s.status), restores, threads: job.liveWorkerThreads() };
}

/** No worker thread was started: the job's status never left INITIALIZING and no thread built the graph. */
function expectNoWorkerStarted(run: Awaited<ReturnType<typeof attempt>>, markerFile: string): void {
  expect(run.statuses).toEqual(['CREATED', 'INITIALIZING', 'FAILED']);
  expect(existsSync(markerFile)).toBe(false);
  expect(run.threads).toBe(0);
}

// A job directory with checkpoints 1 and 2 (the paced source does not end: the run stops after 2).
let populated: JobResult;
beforeAll(async () => {
  const run = await attempt({ jobId: 'populated', checkpointStorage: storage, stopAfterCheckpoint: 2, params: { marker: marker(), to: 1e9, rate: 2_000 } });
  populated = run.outcome as JobResult;
  expect(populated.status).toBe('SUSPENDED');
  // A fresh start says so.
  expect(run.restores.map((r) => r.message)).toEqual(['started empty (no restoreFrom)']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("restoreFrom 'latest' with no checkpoint", () => {
  it.each(['latest', 'latest-valid'] as const)("'%s' fails with NoCheckpointToRestoreError naming the directory searched, before any worker thread starts", async (restoreFrom) => {
    const file = marker();
    const run = await attempt({ jobId: 'defaulted-name', checkpointStorage: storage, restoreFrom, params: { marker: file } });
    expect(run.outcome).toBeInstanceOf(NoCheckpointToRestoreError);
    const error = run.outcome as NoCheckpointToRestoreError;
    expect(error).toMatchObject({ code: 'BATON_ERR_NO_CHECKPOINT', jobDir: `${storage}/defaulted-name`, restoreFrom });
    // Where checkpoints are instead: the job id may have defaulted to another name.
    expect(error.message).toContain(`no checkpoint to restore in ${storage}/defaulted-name (it holds no checkpoint; job directories under ${storage}: ${storage}/populated)`);
    expect(error.message).toContain("restoreFrom 'latest-or-empty'");
    expectNoWorkerStarted(run, file);
    // Looking created nothing.
    expect(existsSync(join(root, 'store', 'defaulted-name'))).toBe(false);
  });

  it("'latest-or-empty' starts empty and says so; on a directory with checkpoints it restores the newest and says which", async () => {
    const file = marker();
    const empty = await attempt({ jobId: 'first-deploy', checkpointStorage: storage, restoreFrom: 'latest-or-empty', params: { marker: file } });
    expect((empty.outcome as JobResult).status).toBe('FINISHED');
    expect((empty.outcome as JobResult).restoredFrom).toBeUndefined();
    expect(empty.restores).toEqual([
      expect.objectContaining({ checkpointId: undefined, requested: 'latest-or-empty', message: `started empty: no checkpoint in ${storage}/first-deploy (restoreFrom 'latest-or-empty')` }),
    ]);
    // The control: when workers do start, the marker shows it.
    expect(readFileSync(file, 'utf8')).toMatch(/^worker thread \d+\n$/);

    const newest = populated.stoppedAtCheckpoint!;
    const restored = await attempt({ jobId: 'populated', checkpointStorage: storage, restoreFrom: 'latest-or-empty', stopAfterCheckpoint: newest + 1, params: { marker: marker(), to: 1e9, rate: 2_000 } });
    expect((restored.outcome as JobResult).restoredFrom).toBe(newest);
    expect(restored.restores).toEqual([
      expect.objectContaining({ checkpointId: newest, message: `restored checkpoint ${newest} from ${storage}/populated (restoreFrom 'latest-or-empty')` }),
    ]);
  });
});

describe('restore and handover errors that depend only on storage come before any worker thread', () => {
  it("checkpointStorage naming a job directory instead of the root: the error says so", async () => {
    const run = await attempt({ jobId: 'thread-marked', checkpointStorage: `${storage}/populated`, restoreFrom: 'latest', params: { marker: marker() } });
    expect(run.outcome).toBeInstanceOf(NoCheckpointToRestoreError);
    expect((run.outcome as Error).message).toContain(`${storage}/populated itself holds a job's checkpoints: checkpointStorage is the root above the job directories`);
  });

  it('restoreFrom n that does not exist', async () => {
    const file = marker();
    const run = await attempt({ jobId: 'populated', checkpointStorage: storage, restoreFrom: 99, params: { marker: file } });
    expect(run.outcome).toBeInstanceOf(CheckpointNotFoundError);
    expect(run.outcome).toMatchObject({ checkpointId: 99, jobDir: `${storage}/populated` });
    expectNoWorkerStarted(run, file);
  });

  it("a corrupt newest _metadata under 'latest'", async () => {
    cpSync(join(root, 'store', 'populated'), join(root, 'store', 'damaged'), { recursive: true });
    const newestId = await latestCompleted(openStorage(`${storage}/damaged`));
    const newest = join(root, 'store', 'damaged', `chk-${newestId}`, '_metadata');
    const bytes = readFileSync(newest);
    bytes[bytes.length - 2] ^= 0x20;
    writeFileSync(newest, bytes);
    const file = marker();
    const run = await attempt({ jobId: 'damaged', checkpointStorage: storage, restoreFrom: 'latest', params: { marker: file, to: 1e9, rate: 2_000 } });
    expect(run.outcome).toBeInstanceOf(CorruptMetadataError);
    expect(run.outcome).toMatchObject({ checkpointId: newestId, reason: 'checksum' });
    expectNoWorkerStarted(run, file);
  });

  it('a handover target older than the newest completed checkpoint', async () => {
    const file = marker();
    const run = await attempt({ jobId: 'populated', checkpointStorage: storage, handover: { targetCheckpoint: 1 }, params: { marker: file } });
    expect(run.outcome).toBeInstanceOf(StaleHandoverTargetError);
    expect(run.outcome).toMatchObject({ targetCheckpoint: 1 });
    expectNoWorkerStarted(run, file);
  });

  it('a handover target that is the newest checkpoint but not one the running job stopped after', async () => {
    // chk-1 was a periodic checkpoint (the job went on after it); the later ones, stop checkpoints, are removed.
    cpSync(join(root, 'store', 'populated'), join(root, 'store', 'passed'), { recursive: true });
    const newestId = (await latestCompleted(openStorage(`${storage}/passed`)))!;
    for (let id = 2; id <= newestId; id++) rmSync(join(root, 'store', 'passed', `chk-${id}`), { recursive: true });
    const file = marker();
    const run = await attempt({ jobId: 'passed', checkpointStorage: storage, handover: { targetCheckpoint: 1 }, params: { marker: file } });
    expect(run.outcome).toBeInstanceOf(HandoverTargetPassedError);
    expect(run.outcome).toMatchObject({ targetCheckpoint: 1 });
    expectNoWorkerStarted(run, file);
  });
});

describe('a missing job module', () => {
  it('names the path as given, not a file of the runtime', async () => {
    const given = 'jobs/no-such-job.ts';
    const error = await runJob(given).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobModuleNotFoundError);
    expect(error).toBeInstanceOf(JobModuleError);
    expect(error).toMatchObject({ code: 'BATON_ERR_JOB_MODULE_NOT_FOUND', path: given });
    expect((error as Error).message).toMatch(/^job module jobs\/no-such-job\.ts \(.*jobs\/no-such-job\.ts\): not found/);
    expect((error as Error).message).not.toMatch(/job-runner|src\/runtime/);
  });
});

it('a fresh start without restoreFrom is reported as such', () => {
  expect(restoreMessage(undefined, undefined, undefined)).toBe('started empty (no restoreFrom)');
  expect(restoreMessage(4, 's3://b/p/orders', 'handover')).toBe('restored checkpoint 4 from s3://b/p/orders (handover)');
});
