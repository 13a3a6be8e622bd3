// Restore planning at the same and at other parallelisms.
import { describe, expect, it } from 'vitest';
import { planRestore, RestorePlanError, type RestoreTarget } from '../../../src/checkpoint/restore/plan-restore.ts';
import type { CheckpointMetadata, KeyGroupChain } from '../../../src/checkpoint/types.ts';
import { keyGroupRangeFor } from '../../../src/state/key-groups.ts';

const MAX = 128;

function chainsFor(uid: string, parallelism: number): KeyGroupChain[] {
  return Array.from({ length: parallelism }, (_, i) => ({
    range: keyGroupRangeFor(i, parallelism, MAX),
    chain: [{ id: `${uid}-${i}-base`, kind: 'base' as const, bytes: 10, entries: 1 }],
  }));
}

const metadata: CheckpointMetadata = {
  jobId: 'j',
  checkpointId: 7,
  triggeredAt: 1,
  completedAt: 2,
  maxParallelism: MAX,
  exclusiveFiles: [],
  operators: [
    { uid: 'src', parallelism: 2, keyed: [], subtasks: [{ subtaskIndex: 1, state: { splits: ['s2', 's3'] } }, { subtaskIndex: 0, state: { splits: ['s0', 's1'] } }] },
    { uid: 'count', parallelism: 2, keyed: chainsFor('count', 2), subtasks: [{ subtaskIndex: 0, state: 'timers0' }, { subtaskIndex: 1, state: 'timers1' }] },
    { uid: 'sink', parallelism: 2, keyed: [], subtasks: [{ subtaskIndex: 0, state: 'staged0' }, { subtaskIndex: 1, state: 'staged1' }] },
  ],
};

const targets = (p: number): RestoreTarget[] => [
  { uid: 'src', parallelism: p, keyed: false, isSource: true },
  { uid: 'count', parallelism: p, keyed: true, isSource: false },
  { uid: 'sink', parallelism: p, keyed: false, isSource: false },
];

describe('planRestore', () => {
  it('gives each subtask its own chains at the same parallelism', () => {
    const plan = planRestore(metadata, targets(2), MAX, false);
    expect(plan.get('count')!.map((s) => s.chains.map((c) => c.chain[0].id))).toEqual([['count-0-base'], ['count-1-base']]);
    expect(plan.get('src')!.map((s) => s.splits)).toEqual([
      ['s0', 's2'],
      ['s1', 's3'],
    ]);
    expect(plan.get('sink')![1].states).toEqual(['staged0', 'staged1']);
  });

  it('scales keyed state out and in by key group', () => {
    const out = planRestore(metadata, targets(4), MAX, false).get('count')!;
    expect(out.map((s) => s.chains.map((c) => c.chain[0].id))).toEqual([['count-0-base'], ['count-0-base'], ['count-1-base'], ['count-1-base']]);
    const inward = planRestore(metadata, targets(1), MAX, false);
    expect(inward.get('count')![0].chains).toHaveLength(2);
    expect(inward.get('src')![0].splits).toEqual(['s0', 's1', 's2', 's3']);
    // Every key group of the checkpoint is covered by exactly the subtask that owns it now.
    for (const p of [1, 3, 4, 7]) {
      const plan = planRestore(metadata, targets(p), MAX, false).get('count')!;
      for (let kg = 0; kg < MAX; kg++) {
        const owner = plan.findIndex((s) => s.range!.start <= kg && kg <= s.range!.end);
        expect(plan[owner].chains.some((c) => c.range.start <= kg && kg <= c.range.end)).toBe(true);
      }
    }
  });

  it('rejects state of an operator the job no longer has, unless allowed', () => {
    const without = targets(2).filter((t) => t.uid !== 'count');
    const error = (() => {
      try {
        planRestore(metadata, without, MAX, false);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RestorePlanError);
    expect((error as RestorePlanError).operatorUids).toEqual(['count']);
    expect((error as Error).message).toContain("'count'");
    expect(planRestore(metadata, without, MAX, true).has('count')).toBe(false);
  });

  it('refuses a different maxParallelism', () => {
    expect(() => planRestore(metadata, targets(2), 256, false)).toThrow(/maxParallelism 128/);
  });
});
