// B killed while WAITING_FOR_START_SIGNAL after announcing, on S3 (s3rver): A, already asked to stop, stands by and resumes by itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/index.ts';
import { type S3GateProxy, startS3GateProxy } from '../support/s3-gate-proxy.ts';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { startDeployment } from './deployment.ts';

const JOB = fileURLToPath(new URL('./jobs/checkpointed-sum.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'baton-rollback-s3-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);
const TO = 8_000;
const LEASE_MS = 1_000;

describe('rollback on S3 (s3rver on 127.0.0.1)', { timeout: 120_000 }, () => {
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

  it('B killed while waiting (A already accepted its request): A stands by, resumes once the lease expires; output exactly once', async () => {
    const t = fresh('s3-waiting');
    const storage = `s3://${s3.bucket}/rollback`;
    const env = { AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AWS_REGION: s3.region };
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const args = (output: string, extra: string[] = []) => [
      ...['--job-id', t.jobId, '-p', '2', '--checkpoint-storage', storage, '--param', `output=${output}`, '--param', `to=${TO}`, '--param', 'intervalMs=100'],
      ...['--param', `pacedBy=${join(t.dir, 'paced')}`, '--param', 'segment=1000', ...extra],
    ];
    const a = startDeployment(JOB, args(join(t.dir, 'out-a')), join(t.dir, 'a.json'), env);
    a.onLine((line) => /checkpoint \d+ (COMPLETED|FAILED)/.test(line) && pacer.ended());
    await a.line(/checkpoint 2 COMPLETED/);
    // From now on no checkpoint of A completes (its _metadata PUTs are held): B, once announced,
    // waits for a stop checkpoint that cannot complete, so it is killed in WAITING_FOR_START_SIGNAL for sure.
    const gate = proxy.hold((r) => r.method === 'PUT' && r.path.includes(`/${t.jobId}/chk-`) && r.path.includes('/_metadata'));
    const b = startDeployment(JOB, args(join(t.dir, 'out-b'), ['--handover', '--handover-lease-ms', String(LEASE_MS)]), join(t.dir, 'b.json'), env);
    await b.line(/handover announced/);
    const accepted = await a.line(/stop request after chk-(\d+) accepted/);
    b.child.kill('SIGKILL');
    await b.exited;
    const bStatuses = b.lines.filter((l) => /^\s+[\d.]+s\s+[A-Z_]+$/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(bStatuses.at(-1)).toBe('WAITING_FOR_START_SIGNAL');
    gate.release();
    const ea = await a.exited;
    expect(ea.code, ea.output).toBe(0);
    expect(ea.result!.status).toBe('FINISHED');
    const statuses = ea.result!.statusHistory.map((e) => e.status);
    expect(statuses.slice(statuses.indexOf('STANDBY'), statuses.indexOf('STANDBY') + 2)).toEqual(['STANDBY', 'RUNNING']);
    const [rollback] = ea.result!.rollbacks!;
    expect(rollback.checkpointId).toBeGreaterThanOrEqual(Number(accepted[1]));
    // The lease ran out on standby, or already while the (held) stop checkpoint was under way.
    expect(rollback.reason).toMatch(/lease of run .* expired/);
    console.log(`rollback (S3, B killed while waiting): downtime ${rollback.downtimeMs} ms`);
    expect(committedLines(join(t.dir, 'out-b'))).toEqual([]);
    expect(committedLines(join(t.dir, 'out-a'))).toEqual(expectedSums(TO));
    // A removed the dead B's request: nothing left to stop a later job.
    const jobDir = openStorage(`${storage}/${t.jobId}`, { s3: { endpoint: s3.endpoint, credentials: s3.credentials, region: s3.region } });
    expect(await jobDir.exists('handover/stop-request.json')).toBe(false);
  });
});
