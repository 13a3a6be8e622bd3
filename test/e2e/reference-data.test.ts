// Pre-state-load hooks loading reference data: one load, one shared buffer for every worker; a failing hook names itself.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readStopRequest } from '../../src/checkpoint/status/stop-request.ts';
import { openStorage, PreStateHookError, ReferenceDataError, runJob } from '../../src/index.ts';
import { committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-refdata-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 16 int32 prices (i * 10) followed by padding to `bytes`. */
function priceFile(bytes: number): string {
  const file = join(root, `prices-${bytes}.bin`);
  const data = new Int32Array(bytes / 4);
  for (let i = 0; i < 16; i++) data[i] = i * 10;
  writeFileSync(file, new Uint8Array(data.buffer));
  return pathToFileURL(file).href;
}

describe('reference data for pre-state-load hooks', () => {
  it('is loaded once and shared by every worker thread (one SharedArrayBuffer), readable from user functions', async () => {
    const uri = priceFile(4 << 20);
    const job = await runJob(jobUrl('reference-lookup'), { parallelism: 2, params: { refUri: uri, to: 200 } });
    const progress: Array<{ loadedBytes: number; totalBytes: number }> = [];
    job.on('reference-data', (p) => progress.push(p));
    const result = await job.done;
    expect(result.status).toBe('FINISHED');
    const rows = result.collected.out as Array<{ n: number; price: number; hooksSeen: number }>;
    expect(rows).toHaveLength(200);
    // Both workers' hooks added 1 to the same int: one buffer, not a copy per worker.
    expect(new Set(rows.map((r) => r.hooksSeen))).toEqual(new Set([2]));
    for (const r of rows.filter((r) => r.n % 16 !== 0)) expect(r.price).toBe((r.n % 16) * 10);
    // One load: progress of a single 4 MiB read ending at its full size.
    expect(progress.at(-1)).toMatchObject({ loadedBytes: 4 << 20, totalBytes: 4 << 20 });
    expect(progress.filter((p) => p.loadedBytes === p.totalBytes)).toHaveLength(1);
    expect(result.hookMs.prices).toBeGreaterThan(0);
  });

  it('a missing object fails the start with an error naming the hook and the URI', async () => {
    const uri = pathToFileURL(join(root, 'missing.bin')).href;
    const job = await runJob(jobUrl('reference-lookup'), { parallelism: 2, params: { refUri: uri } });
    const error = await job.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreStateHookError);
    expect((error as PreStateHookError).hookName).toBe('prices');
    expect((error as Error).message).toContain('missing.bin');
    // Raised on the main thread, thrown to the hook on a worker, reported back: still a ReferenceDataError.
    expect((error as PreStateHookError).cause).toBeInstanceOf(ReferenceDataError);
    expect((error as PreStateHookError).cause).toMatchObject({ code: 'BATON_ERR_REFERENCE_DATA', uri });
  });
});

describe('a deployment B whose hook fails', () => {
  it('fails naming the hook and leaves A untouched: no stop request, A runs to the end exactly once', async () => {
    const t = jobDirs(root)('hook-fails');
    const a = await runJob(jobUrl('checkpointed-sum'), { jobId: t.jobId, parallelism: 2, checkpointStorage: t.storage, params: { output: t.output, to: 6_000, rate: 6_000 } });
    const seen = await new Promise<number>((resolve) => a.on('checkpoint', (c) => c.status === 'COMPLETED' && resolve(c.id)));
    const b = await runJob(jobUrl('reference-lookup'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      params: { refUri: 'file:///nowhere', failHook: true, checkpointed: true },
      // A target A's bounded input never reaches: whether B's failure comes before or after A's
      // next checkpoints then does not depend on how busy the machine is (a target 3 ahead raced).
      handover: { targetCheckpoint: seen + 1_000, timeoutMs: 30_000 },
    });
    const error = await b.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreStateHookError);
    expect((error as Error).message).toMatch(/hook 'prices' failed.*price list unavailable/s);
    expect(await readStopRequest(openStorage(`${t.storage}/${t.jobId}`))).toBeUndefined();
    expect((await a.done).status).toBe('FINISHED');
    expect(committedLines(t.output)).toEqual(expectedSums(6_000));
  });
});
