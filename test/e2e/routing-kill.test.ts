// Side outputs, shuffle/broadcast/global partitionings, a non-keyed process and rolling sum/minBy/maxBy
// on worker threads: a worker
// killed mid-run, the job restarts from its latest checkpoint, and every sink's committed output
// equals an uninterrupted run of the same job (in testJob), record for record.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';
import { checkpointPacer, committedLines, jobDirs } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import job from './jobs/routing-kill.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-routing-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);
const TO = 3_000;

describe('side outputs, partitionings, non-keyed process and rolling aggregations: a worker killed', () => {
  it('restarts from the latest checkpoint and commits exactly what an uninterrupted run does', async () => {
    const t = fresh('routing-kill');
    mkdirSync(t.dir, { recursive: true });
    const pacer = checkpointPacer(join(t.dir, 'paced'));
    const crashFile = join(t.dir, 'crash-now');
    const handle = await runJob(jobUrl('routing-kill'), {
      jobId: t.jobId,
      parallelism: 2,
      checkpointStorage: t.storage,
      restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
      params: { output: t.output, to: TO, segment: 300, pacedBy: pacer.dir, crashWhenFile: crashFile, crashMarker: join(t.dir, 'crashed') },
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
    // The kill lands once two checkpoints completed (the input advances one segment per checkpoint, so it cannot run out before).
    let completed = 0;
    handle.on('checkpoint', (c) => {
      if (c.status === 'COMPLETED' && !restarted && ++completed === 2) writeFileSync(crashFile, 'kill');
    });
    await restarting;
    const result = await handle.done;
    expect(result.status).toBe('FINISHED');
    expect(result.attempts).toBe(2);
    expect(result.restoredFrom).toBeGreaterThanOrEqual(2);

    const driver = await testJob(job, { parallelism: 2, params: { output: join(t.dir, 'uninterrupted'), pacedBy: pacer.dir, to: TO } });
    await driver.input<number>('numbers').pushAll(Array.from({ length: TO }, (_, i) => i + 1));
    await driver.finish();
    const sinks = [
      ['sums', 'sums-out', TO / 2],
      ['odds', 'odds-out', TO / 2],
      ['hundreds', 'hundreds-out', (TO / 100) * 2],
      ['extremes', 'min-out', TO / 3],
      ['extremes-max', 'max-out', TO / 3],
      ['small', 'small-out', 9],
    ] as const;
    for (const [dir, uid, count] of sinks) {
      const uninterrupted = driver.output<string>(uid).committed.slice().sort();
      expect(uninterrupted).toHaveLength(count);
      expect(committedLines(join(t.output, dir))).toEqual(uninterrupted);
    }
  });
});
