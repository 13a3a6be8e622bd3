// Seeded kill schedules: a worker thread or the whole process killed at an event-chosen point, restored from latest, exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { FIXED_SEEDS, seedsFromEnv } from './fixed-seeds.ts';
import { runSchedule } from './kill-run.ts';
import { describeSchedule, scheduleFor } from './schedule.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-fault-kill-'));
let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

// FAULT_SEED=<n>[,<n>...] replays chosen seeds instead of the fixed list.
const seeds = seedsFromEnv(process.env.FAULT_SEED) ?? FIXED_SEEDS;

describe('seeded kill schedules: committed output equals one failure-free run', () => {
  for (const seed of seeds) {
    const schedule = scheduleFor(seed);
    it(`seed=${seed}: ${describeSchedule(schedule)}`, { timeout: 300_000 }, async () => {
      const outcome = await runSchedule(schedule, { s3, root });
      if (process.env.FAULT_VERBOSE) console.log(JSON.stringify({ seed, kills: outcome.kills, status: outcome.finalStatus, ms: outcome.durationMs, diff: outcome.diff.summary }));
      const replay = `seed=${seed} (${outcome.description}); kills: ${outcome.kills.map((k) => `${k.point} ${k.landed ? 'landed' : 'not reached'}`).join(', ')}; replay: FAULT_SEED=${seed} npx vitest run test/fault/kill-schedules.test.ts`;
      expect(outcome.problem, replay).toBe('');
      expect(outcome.diff.equal, replay).toBe(true);
    });
  }
});
