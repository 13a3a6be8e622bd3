// Kill schedules, second half of the fixed seeds (none during a FAULT_SEED replay: kill-schedules-1 runs those).
import { FIXED_SEEDS, seedsFromEnv } from './fixed-seeds.ts';
import { killScheduleSuite } from './kill-schedules-suite.ts';

killScheduleSuite(seedsFromEnv(process.env.FAULT_SEED) ? [] : FIXED_SEEDS.slice(15));
