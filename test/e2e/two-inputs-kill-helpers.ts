// Shared by the two-input kill tests: a run on threads killed once mid-run, and the same job uninterrupted in this thread.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { runJob } from '../../src/index.ts';
import type { JobDefinition } from '../../src/runtime/types.ts';
import { testJob } from '../../src/testing/index.ts';
import { checkpointPacer, committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-two-inputs-kill-'));
const fresh = jobDirs(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

export const TO = 2_000;
/** Records per completed checkpoint: the kill at CRASH_AT comes after at least 6 checkpoints, whatever the machine's speed. */
const SEGMENT = 200;
const CRASH_AT = 1_300;

/**
 * Runs `name` on threads at parallelism 2 with input paced by checkpoints; the worker running the
 * source chain exits at record CRASH_AT; a restart strategy restores the latest checkpoint.
 */
export async function killedRun(name: string, extraParams: Record<string, string | number> = {}): Promise<{ lines: string[]; restoredFrom: number | undefined; channelStateBytes: Map<number, number> }> {
  const t = fresh(name);
  mkdirSync(t.dir, { recursive: true });
  const pacer = checkpointPacer(join(t.dir, 'paced'));
  const job = await runJob(jobUrl(name), {
    jobId: t.jobId,
    parallelism: 2,
    checkpointStorage: t.storage,
    restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
    params: { output: t.output, to: TO, segment: SEGMENT, pacedBy: pacer.dir, crashAt: CRASH_AT, crashMarker: join(t.dir, 'crashed'), ...extraParams },
  });
  job.on('checkpoint', pacer.ended);
  // Bytes of in-flight records each completed checkpoint saved as channel state (unaligned), by id.
  const channelStateBytes = new Map<number, number>();
  job.on('checkpoint', (c) => {
    if (c.status === 'COMPLETED') channelStateBytes.set(c.id, c.channelStateBytes);
  });
  const result = await job.done;
  expect(result.status).toBe('FINISHED');
  expect(result.attempts).toBe(2);
  expect(result.statusHistory.map((e) => e.status)).toContain('RESTARTING');
  return { lines: committedLines(t.output), restoredFrom: result.restoredFrom, channelStateBytes };
}

/** The same job uninterrupted, in this thread (testJob with its real, here unpaced, source). */
export async function uninterruptedRun(job: JobDefinition, name: string, extraParams: Record<string, string | number> = {}): Promise<string[]> {
  const t = fresh(`${name}-uninterrupted`);
  const unpaced = join(t.dir, 'unpaced');
  mkdirSync(unpaced, { recursive: true });
  for (let i = 1; i <= Math.ceil(TO / SEGMENT); i++) writeFileSync(join(unpaced, `completed-${i}`), '');
  const driver = await testJob(job, { parallelism: 2, inputs: [], params: { output: t.output, to: TO, segment: SEGMENT, pacedBy: unpaced, ...extraParams } });
  await driver.finish();
  return driver.output<string>('out').committed.slice().sort();
}
