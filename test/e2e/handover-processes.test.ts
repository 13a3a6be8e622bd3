// Handover between two processes: A runs, B (another process) preloads, follows and takes over; on fs and on s3rver.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointStatus, readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/index.ts';
import { startS3GateProxy, type S3GateProxy } from '../support/s3-gate-proxy.ts';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { type Deployment, startDeployment } from './deployment.ts';

const JOB = fileURLToPath(new URL('./jobs/checkpointed-sum.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'baton-handover-proc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const TO = 20_000;
/**
 * Same replayable input for A and B, checkpoints every 150 ms. The input advances 1 000 numbers
 * per checkpoint ended (by A or B, announced in `<dir>/paced`): it cannot run out before the
 * checkpoints a test waits for, however busy the machine.
 */
function args(t: { jobId: string; storage: string; dir: string }, output: string, parallelism: number, extra: string[] = []): string[] {
  const paced = ['--param', `pacedBy=${join(t.dir, 'paced')}`, '--param', 'segment=1000'];
  return ['--job-id', t.jobId, '-p', String(parallelism), '--checkpoint-storage', t.storage, '--param', `output=${output}`, '--param', `to=${TO}`, '--param', 'intervalMs=150', ...paced, ...extra];
}

/** Starts a deployment whose ended checkpoints let the job's paced input (in `<dir>/paced`) read on. */
function deploy(t: { dir: string }, args: string[], resultFile: string, env: NodeJS.ProcessEnv = {}): Deployment {
  const pacer = pacers.get(t.dir) ?? checkpointPacer(join(t.dir, 'paced'));
  pacers.set(t.dir, pacer);
  const d = startDeployment(JOB, args, resultFile, env);
  d.onLine((line) => {
    if (/checkpoint \d+ (COMPLETED|FAILED)/.test(line)) pacer.ended();
  });
  return d;
}
const pacers = new Map<string, ReturnType<typeof checkpointPacer>>();

// Each test starts two processes: on a busy 2-core machine that alone can take tens of seconds.
// The timeouts are failure detectors; every step waits for an event.
const combined = (dir: string) => [...committedLines(join(dir, 'out-a')), ...committedLines(join(dir, 'out-b'))].sort();

describe('handover between processes, on a local directory', { timeout: 180_000 }, () => {
  it('A stops right after the target, B takes over: A + B output equals one uninterrupted run', async () => {
    const t = fresh('fs');
    // A is told the target too: however late B's stop request comes (a busy machine can delay B's
    // start by seconds), A ends right after the target, never past it. B may then find the
    // target completed already; the metrics below say so either way.
    const target = 8;
    const a = deploy(t, args(t, join(t.dir, 'out-a'), 2, ['--stop-after-checkpoint', String(target)]), join(t.dir, 'a.json'));
    await a.line(/checkpoint \d+ COMPLETED/);
    const b = deploy(t, args(t, join(t.dir, 'out-b'), 2, ['--handover-target', String(target), '--handover-timeout', '60000']), join(t.dir, 'b.json'));
    // Read when B runs, before B's own checkpoints let retention (B's now) discard the target.
    const jobDir = openStorage(`${t.storage}/${t.jobId}`);
    const targetMeta = b.line(/\sRUNNING$/).then(() => readMetadata(jobDir, target));
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, ea.output).toBe(0);
    expect(eb.code, eb.output).toBe(0);
    expect(ea.result!.status).toBe('SUSPENDED');
    expect(ea.result!.stoppedAtCheckpoint).toBe(target);
    expect(eb.result!.status).toBe('FINISHED');
    const h = eb.result!.handover!;
    expect(h.targetCheckpoint).toBe(target);
    // How far B got before the target depends on how fast its process starts; the metrics must agree with it.
    expect(h.targetReadyBeforeJob).toBe(h.stage1Checkpoint === target);
    expect(h.followedCheckpoints).toBe(ea.result!.checkpoints.filter((c) => c.status === 'COMPLETED' && c.id > (h.stage1Checkpoint ?? 0) && c.id < target).length);
    expect(h.downtimeMs).toBeGreaterThan(0);
    expect(eb.output).toMatch(/WAITING_FOR_START_SIGNAL/);
    // Both ends of the downtime are in storage: A's last record in the target's metadata, B's first in its report.
    const report = JSON.parse(new TextDecoder().decode(await jobDir.get(`handover/report-chk-${target}.json`)));
    expect(report.firstRecordAt - (await targetMeta).lastRecordAt!).toBe(h.downtimeMs);
    expect(combined(t.dir)).toEqual(expectedSums(TO));
  });

  it('B started before A has any checkpoint waits, follows from the first one, and takes over', async () => {
    const t = fresh('b-first');
    const target = 6;
    const b = deploy(t, args(t, join(t.dir, 'out-b'), 2, ['--handover-target', String(target)]), join(t.dir, 'b.json'));
    await b.line(/WAITING_FOR_START_SIGNAL/);
    const a = deploy(t, args(t, join(t.dir, 'out-a'), 2), join(t.dir, 'a.json'));
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, ea.output).toBe(0);
    expect(eb.code, eb.output).toBe(0);
    expect(ea.result!.stoppedAtCheckpoint).toBe(target);
    const h = eb.result!.handover!;
    expect(h.stage1Checkpoint).toBeUndefined();
    expect(h.followedCheckpoints).toBe(target - 1);
    expect(combined(t.dir)).toEqual(expectedSums(TO));
  });

  it('a target that never completes: onTimeout fail stops B with an error naming the checkpoint, A is untouched', async () => {
    const t = fresh('timeout-fail');
    const a = deploy(t, args(t, join(t.dir, 'out-a'), 2), join(t.dir, 'a.json'));
    await a.line(/checkpoint \d+ COMPLETED/);
    const b = deploy(t, args(t, join(t.dir, 'out-b'), 2, ['--handover-target', '100000', '--handover-timeout', '1500']), join(t.dir, 'b.json'));
    const eb = await b.exited;
    expect(eb.code).not.toBe(0);
    expect(eb.output).toMatch(/handover target chk-100000 did not complete within 1500 ms/);
    const ea = await a.exited;
    expect(ea.result!.status).toBe('FINISHED');
    expect(committedLines(join(t.dir, 'out-a'))).toEqual(expectedSums(TO));
    expect(committedLines(join(t.dir, 'out-b'))).toEqual([]);
  });

  it('onTimeout start-from-latest: after A stopped on its own, B starts from the newest completed checkpoint', async () => {
    const t = fresh('timeout-latest');
    const a = deploy(t, args(t, join(t.dir, 'out-a'), 2, ['--stop-after-checkpoint', '4']), join(t.dir, 'a.json'));
    const ea = await a.exited;
    expect(ea.result!.stoppedAtCheckpoint).toBe(4);
    const b = deploy(
      t,
      args(t, join(t.dir, 'out-b'), 2, ['--handover-target', '100000', '--handover-timeout', '800', '--handover-on-timeout', 'start-from-latest']),
      join(t.dir, 'b.json'),
    );
    const eb = await b.exited;
    expect(eb.code, eb.output).toBe(0);
    expect(eb.result!.handover!.outcome).toBe('timeout-latest');
    expect(eb.result!.restoredFrom).toBe(4);
    expect(combined(t.dir)).toEqual(expectedSums(TO));
  });
});

describe('handover between processes, on S3 (s3rver on 127.0.0.1)', { timeout: 180_000 }, () => {
  let s3: S3rverHandle;
  let proxy: S3GateProxy;
  beforeAll(async () => {
    s3 = await startS3rver();
    proxy = await startS3GateProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await s3?.close();
  });

  it('B at another parallelism takes over after the target failed once (the target moves to the next checkpoint)', async () => {
    const t = fresh('s3');
    const storage = `s3://${s3.bucket}/handover`;
    const env = { AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AWS_REGION: s3.region };
    const dirs = { jobId: t.jobId, storage, dir: t.dir };
    const target = 6;
    // B first: its stop request is in storage before A starts. A cannot pass the target before it
    // has read that request: the checkpoint before the target stays unfinished (its _metadata PUT
    // held at the proxy) until A read the request.
    const b = deploy(t, args(dirs, join(t.dir, 'out-b'), 3, ['--handover-target', String(target)]), join(t.dir, 'b.json'), env);
    await b.line(/WAITING_FOR_START_SIGNAL/);
    const beforeTarget = proxy.hold((r) => r.method === 'PUT' && r.path.includes(`/${t.jobId}/chk-${target - 1}/_metadata`));
    // The target's _metadata write fails: chk-<target> ends FAILED, both deployments move to the next one.
    // The S3 client retries a 500, so every attempt at that write is failed, not just the first.
    const isTargetMetadata = (r: { method: string; path: string }) => r.method === 'PUT' && r.path.includes(`/${t.jobId}/chk-${target}/_metadata`);
    let failedWrites = 0;
    void (async () => {
      for (;;) {
        const gate = proxy.hold(isTargetMetadata);
        await gate.held();
        failedWrites++;
        gate.fail();
      }
    })();
    // Read when B runs, before a sweep of B's can remove the failed target's marker.
    const jobDir = openStorage(`${storage}/${t.jobId}`, { s3: { endpoint: s3.endpoint, credentials: s3.credentials, region: s3.region } });
    const targetStatus = b.line(/\sRUNNING$/).then(() => checkpointStatus(jobDir, target));
    const a = deploy(t, args(dirs, join(t.dir, 'out-a'), 2), join(t.dir, 'a.json'), env);
    await proxy.passed((r) => r.method === 'GET' && r.path.includes(`/${t.jobId}/handover/stop-request.json`));
    beforeTarget.release();
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, ea.output).toBe(0);
    expect(eb.code, eb.output).toBe(0);
    expect(failedWrites).toBeGreaterThan(0);
    expect(ea.result!.stoppedAtCheckpoint).toBe(target + 1);
    const h = eb.result!.handover!;
    expect(h.moves.map((m) => [m.from, m.to])).toEqual([[target, target + 1]]);
    expect(h.targetCheckpoint).toBe(target + 1);
    // Never completed: FAILED, or UNKNOWN once its folder is gone (like the storage-error test in checkpoints.test.ts).
    expect(['FAILED', 'UNKNOWN']).toContain(await targetStatus);
    expect(combined(t.dir)).toEqual(expectedSums(TO));
  });
});
