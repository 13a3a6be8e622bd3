// Kill schedules, first half of the fixed seeds (or the seeds FAULT_SEED=<n>[,<n>...] names, for a replay).
import { FIXED_SEEDS, seedsFromEnv } from './fixed-seeds.ts';
import { killScheduleSuite } from './kill-schedules-suite.ts';

killScheduleSuite(seedsFromEnv(process.env.FAULT_SEED) ?? FIXED_SEEDS.slice(0, 15));
