// Keyed state with TTL and operator list state on worker threads: a worker killed mid-run, the job
// restarts from its latest checkpoint, and the committed output equals an uninterrupted run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';
import { checkpointPacer, committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import job, { expectedLines } from './jobs/ttl-operator-state.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-ttl-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);
const TO = 3_000;

describe.each(['lmdb', 'heap'] as const)('TTL keyed state (%s) and operator state, a worker killed', (stateBackend) => {
  it('restarts from the latest checkpoint and commits exactly what an uninterrupted run does', async () => {
    const t = fresh(`ttl-kill-${stateBackend}`);
    mkdirSync(t.dir, { recursive: true });
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const crashFile = join(t.dir, 'crash-now');
    const handle = await runJob(jobUrl('ttl-operator-state'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      stateBackend,
      restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
      params: { output: t.output, to: TO, segment: 298, pacedBy: pacer.dir, crashWhenFile: crashFile, crashMarker: join(t.dir, 'crashed') },
    });
    handle.on('checkpoint', pacer.ended);
    let restarted = false;
    const restarting = new Promise<void>((resolve) => {
      handle.on('status', (e) => {
        if (e.status !== 'RESTARTING') return;
        restarted = true;
        resolve();
      });
    });
    // The kill lands once two checkpoints completed (the input cannot run out before: it advances one segment per checkpoint).
    let completed = 0;
    handle.on('checkpoint', (c) => {
      if (c.status === 'COMPLETED' && !restarted && ++completed === 2) writeFileSync(crashFile, 'kill');
    });
    await restarting;
    const result = await handle.done;
    expect(result.status).toBe('FINISHED');
    expect(result.attempts).toBe(2);
    expect(result.restoredFrom).toBeGreaterThanOrEqual(2);
    const committed = committedLines(t.output);

    // The uninterrupted run: the same job in this thread, fed the same numbers.
    const driver = await testJob(job, { parallelism: 2, stateBackend, params: { output: join(t.dir, 'uninterrupted'), pacedBy: pacer.dir, to: TO } });
    await driver.input<number>('numbers').pushAll(Array.from({ length: TO }, (_, i) => i + 1));
    const uninterrupted = await driver.finish();
    expect(driver.output<string>('out').committed.slice().sort()).toEqual(expectedLines(TO));
    expect(uninterrupted.operators.batches.counters).toEqual({ batches: TO / 5 });
    expect(committed).toEqual(driver.output<string>('out').committed.slice().sort());
  });
});
