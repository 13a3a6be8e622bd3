// The seeded schedules: reproducible from the seed, and the fixed list covers every kill point, kind and variant.
import { describe, expect, it } from 'vitest';
import { VARIANTS } from './fault-variants.ts';
import { FIXED_SEEDS, seedsFromEnv } from './fixed-seeds.ts';
import { compareLines } from './line-diff.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { describeSchedule, KILL_KINDS, KILL_POINTS, scheduleFor } from './schedule.ts';

describe('kill schedules from seeds', () => {
  it('the same seed gives the same schedule; different seeds differ', () => {
    expect(scheduleFor(17)).toEqual(scheduleFor(17));
    const a = seededRandom(1);
    const b = seededRandom(1);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(new Set(FIXED_SEEDS.map((s) => JSON.stringify({ ...scheduleFor(s), seed: 0 }))).size).toBeGreaterThan(20);
  });

  it('the fixed list has 30 seeds or more and covers every kill point of both kinds, every variant, both modes, parallelism 1-3', () => {
    const schedules = FIXED_SEEDS.map(scheduleFor);
    expect(schedules.length).toBeGreaterThanOrEqual(30);
    for (const point of KILL_POINTS) for (const kind of KILL_KINDS) expect(schedules.some((s) => s.point === point && s.kind === kind), `${point}/${kind}`).toBe(true);
    for (const variant of VARIANTS) expect(schedules.some((s) => s.variant === variant), variant).toBe(true);
    for (const mode of ['aligned', 'unaligned']) for (const bp of [true, false]) expect(schedules.some((s) => s.mode === mode && s.backpressure === bp), `${mode} ${bp}`).toBe(true);
    for (const p of [1, 2, 3]) expect(schedules.some((s) => s.parallelism === p), `p ${p}`).toBe(true);
  });

  it('describes a schedule in words and rejects a bad seed', () => {
    expect(describeSchedule(scheduleFor(5))).toMatch(/during restore/);
    expect(() => scheduleFor(-1)).toThrow(RangeError);
    expect(seedsFromEnv('3, 17')).toEqual([3, 17]);
    expect(seedsFromEnv(undefined)).toBeUndefined();
    expect(() => seedsFromEnv('x')).toThrow(/FAULT_SEED/);
  });
});

describe('comparing committed lines with a failure-free run', () => {
  it('counts lost, duplicated and wrong lines', () => {
    const diff = compareLines(['a', 'a', 'c'], ['a', 'b']);
    expect(diff).toMatchObject({ equal: false, lost: 1, duplicated: 1, wrong: 1, committed: 3, expected: 2 });
    expect(diff.summary).toMatch(/^1 lost, 1 duplicated, 1 wrong of 2 expected/);
    expect(compareLines(['b', 'a'], ['a', 'b']).equal).toBe(true);
  });
});
