// During an S3 outage of the stop request's key, the coordinator logs one storage problem (with its
// cause) and its recovery, never "stop request rejected": no request existed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import type { StorageProblemEvent } from '../../src/runtime/index.ts';
import { startS3FaultProxy } from '../support/s3-fault-proxy.ts';
import { startS3rver } from '../support/s3rver.ts';
import { committedLines, expectedSums } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-stop-outage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('an outage while polling the stop request is one storage problem and its recovery, not rejected requests', async () => {
  const s3 = await startS3rver();
  const proxy = await startS3FaultProxy(s3.endpoint, 10);
  try {
    proxy.setPlan({ rate: 1, kinds: ['503'], match: (r) => r.path.includes('stop-request.json') });
    // Unbounded for this test's purpose: it is stopped once the outage is over.
    const to = 1_000_000;
    const output = join(root, 'out');
    const job = await runJob(jobUrl('checkpointed-sum'), {
      jobId: 'outage',
      checkpointStorage: `s3://${s3.bucket}/checkpoints`,
      s3: { endpoint: proxy.endpoint, region: s3.region, credentials: s3.credentials },
      stopRequestPollMs: 10,
      params: { output, to },
    });
    const stopRequests: unknown[] = [];
    const problems: StorageProblemEvent[] = [];
    const recovered = new Promise<void>((resolve, reject) => {
      job.on('storage-problem', (p) => {
        problems.push(p);
        if (p.recovered) resolve();
      });
      // No request exists: any stop-request event here is the misleading message of the issue.
      job.on('stop-request', (r) => {
        stopRequests.push(r);
        reject(new Error(`stop-request event during a storage outage: ${JSON.stringify(r)}`));
      });
    });
    recovered.catch(() => undefined); // awaited below; only keeps an early rejection from being "unhandled"
    // The outage lasts until 8 requests for the stop request have failed (at least two polls, each
    // retried; the old code logged every failed poll as a rejected request).
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (proxy.injected['503'] < 8) return;
        clearInterval(check);
        proxy.setPlan(undefined);
        resolve();
      }, 20);
    });
    await recovered;
    const result = await job.stop({ mode: 'suspend' });
    expect(result.status).toBe('SUSPENDED');
    expect(stopRequests).toEqual([]);
    expect(problems.length).toBe(2);
    expect(problems[0]).toMatchObject({ operation: 'read stop request', recovered: false, failures: 1 });
    expect(problems[0].error).toMatch(/stop-request\.json.*failed/);
    expect(problems[1]).toMatchObject({ operation: 'read stop request', recovered: true });
    expect(problems[1].failures).toBeGreaterThanOrEqual(2);
    // What was committed is exactly once: every line is the one an uninterrupted run has.
    const lines = committedLines(output);
    const expected = new Set(expectedSums(Math.max(0, ...lines.map((l) => Number(l.split(',')[1])))));
    expect(new Set(lines).size).toBe(lines.length);
    for (const line of lines) expect(expected.has(line)).toBe(true);
  } finally {
    await proxy.close();
    await s3.close();
  }
});
