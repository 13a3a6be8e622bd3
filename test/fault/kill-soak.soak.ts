// The soak (`npm run test:soak`): many seeded kill schedules, a summary in bench/results/soak.json.
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { seedsFromEnv } from './fixed-seeds.ts';
import { runSchedule, type ScheduleOutcome } from './kill-run.ts';
import { scheduleFor } from './schedule.ts';
import { summarizeSoak } from './soak-summary.ts';

const RESULT = fileURLToPath(new URL('../../bench/results/soak.json', import.meta.url));
const count = Number(process.env.FAULT_SOAK_COUNT ?? 300);
// A random base unless given: each soak tries new seeds; the base is printed and saved for a replay.
const seedBase = process.env.FAULT_SOAK_BASE === undefined ? randomInt(1_000_000) : Number(process.env.FAULT_SOAK_BASE);
const seeds = seedsFromEnv(process.env.FAULT_SEED) ?? Array.from({ length: count }, (_, i) => seedBase + i);

const root = mkdtempSync(join(tmpdir(), 'baton-fault-soak-'));
let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

it(`soak: ${seeds.length} kill schedules from seed ${seeds[0]}`, async () => {
  console.log(`soak: ${seeds.length} schedules, seeds ${seeds[0]}..${seeds.at(-1)} (FAULT_SOAK_BASE=${seedBase})`);
  const started = Date.now();
  const outcomes: ScheduleOutcome[] = [];
  const save = () => {
    mkdirSync(join(RESULT, '..'), { recursive: true });
    writeFileSync(RESULT, `${JSON.stringify(summarizeSoak(seedBase, outcomes, Date.now() - started), null, 2)}\n`);
  };
  for (const seed of seeds) {
    const outcome = await runSchedule(scheduleFor(seed), { s3, root });
    outcomes.push(outcome);
    const kills = outcome.kills.map((k) => `${k.point}:${k.landed ? 'landed' : 'not reached'}`).join(' ');
    console.log(`${outcome.passed ? 'ok  ' : 'FAIL'} seed=${seed} ${outcome.durationMs} ms ${kills}${outcome.passed ? '' : ` — ${outcome.description}: ${outcome.problem}`}`);
    // Saved after every schedule: a soak stopped halfway still leaves its counts.
    save();
  }
  const failed = outcomes.filter((o) => !o.passed).map((o) => `seed=${o.schedule.seed} (${o.description}): ${o.problem}`);
  expect(failed, `replay one with FAULT_SEED=<seed> npx vitest run test/fault/kill-schedules-1.test.ts`).toEqual([]);
}, 24 * 3_600_000);
