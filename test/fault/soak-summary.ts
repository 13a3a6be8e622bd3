// The soak's summary: schedules run, kills asked for and landed per point and kind, outcomes with failing seeds. Pure.
import type { ScheduleOutcome } from './kill-run.ts';
import { KILL_KINDS, KILL_POINTS } from './schedule.ts';

export interface SoakSummary {
  readonly seedBase: number;
  readonly schedules: number;
  readonly seeds: readonly number[];
  /** Per kill point (and the first kill of a restore schedule, `restore-first`) and kind: kills asked for and kills that landed. */
  readonly kills: Record<string, Record<string, { readonly asked: number; readonly landed: number }>>;
  /** Kills that landed (faults injected), over all schedules. */
  readonly faultsInjected: number;
  /** Schedules whose kill point was never reached (the run ended first). */
  readonly notReached: number;
  readonly byVariant: Record<string, number>;
  readonly byMode: Record<string, number>;
  readonly byParallelism: Record<string, number>;
  readonly passed: number;
  readonly failed: number;
  readonly failures: ReadonlyArray<{ readonly seed: number; readonly schedule: string; readonly problem: string }>;
  readonly durationMs: number;
}

const count = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

/**
 * Counts what a soak did and found.
 *
 * @example summarizeSoak(7, outcomes, 60_000).failures; // [{ seed: 13, schedule: '...', problem: '0 lost, 43 duplicated, ...' }]
 */
export function summarizeSoak(seedBase: number, outcomes: readonly ScheduleOutcome[], durationMs: number): SoakSummary {
  const kills: Record<string, Record<string, { asked: number; landed: number }>> = {};
  for (const point of [...KILL_POINTS, 'restore-first']) {
    kills[point] = {};
    for (const kind of KILL_KINDS) kills[point][kind] = { asked: 0, landed: 0 };
  }
  const byVariant: Record<string, number> = {};
  const byMode: Record<string, number> = {};
  const byParallelism: Record<string, number> = {};
  let faultsInjected = 0;
  let notReached = 0;
  for (const o of outcomes) {
    const s = o.schedule;
    count(byVariant, s.variant);
    count(byMode, `${s.mode}${s.backpressure ? '+backpressure' : ''}`);
    count(byParallelism, String(s.parallelism));
    for (const k of o.kills) {
      kills[k.point][s.kind].asked++;
      if (k.landed) {
        kills[k.point][s.kind].landed++;
        faultsInjected++;
      }
    }
    if (!o.kills.some((k) => k.landed)) notReached++;
  }
  const failures = outcomes.filter((o) => !o.passed).map((o) => ({ seed: o.schedule.seed, schedule: o.description, problem: o.problem }));
  return {
    seedBase,
    schedules: outcomes.length,
    seeds: outcomes.map((o) => o.schedule.seed),
    kills,
    faultsInjected,
    notReached,
    byVariant,
    byMode,
    byParallelism,
    passed: outcomes.length - failures.length,
    failed: failures.length,
    failures,
    durationMs,
  };
}
