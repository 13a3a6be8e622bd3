// Seeded kill schedules: a worker thread or the whole process killed at an event-chosen point, restored from latest, exactly once.
// The fixed seeds are split over two test files so that vitest can run them beside other files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { runSchedule } from './kill-run.ts';
import { describeSchedule, scheduleFor } from './schedule.ts';

/**
 * Registers one test per seed: the schedule it names runs on a fresh s3rver shared by the file,
 * and its committed output must equal the failure-free run's.
 *
 * @example killScheduleSuite([0, 1, 2]);
 */
export function killScheduleSuite(seeds: readonly number[]): void {
  const root = mkdtempSync(join(tmpdir(), 'baton-fault-kill-'));
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.close();
    rmSync(root, { recursive: true, force: true });
  });

  describe('seeded kill schedules: committed output equals one failure-free run', () => {
    for (const seed of seeds) {
      const schedule = scheduleFor(seed);
      it(`seed=${seed}: ${describeSchedule(schedule)}`, { timeout: 300_000 }, async () => {
        const outcome = await runSchedule(schedule, { s3, root });
        if (process.env.FAULT_VERBOSE) console.log(JSON.stringify({ seed, kills: outcome.kills, status: outcome.finalStatus, ms: outcome.durationMs, diff: outcome.diff.summary }));
        const replay = `seed=${seed} (${outcome.description}); kills: ${outcome.kills.map((k) => `${k.point} ${k.landed ? 'landed' : 'not reached'}`).join(', ')}; replay: FAULT_SEED=${seed} npx vitest run test/fault/kill-schedules-1.test.ts`;
        expect(outcome.problem, replay).toBe('');
        expect(outcome.diff.equal, replay).toBe(true);
      });
    }
  });
}
