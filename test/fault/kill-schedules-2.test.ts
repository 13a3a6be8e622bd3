// Kill schedules, second half of the fixed seeds (a FAULT_SEED replay runs in kill-schedules-1 only: name that file).
import { FIXED_SEEDS } from './fixed-seeds.ts';
import { killScheduleSuite } from './kill-schedules-suite.ts';

killScheduleSuite(FIXED_SEEDS.slice(15));
