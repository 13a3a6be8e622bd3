// The cut's positions, pure: read from a checkpoint (hostile input), and whether the running job's cover the shadow's.
import { describe, expect, it } from 'vitest';
import { checkpointPositions, positionsCover } from '../../../src/handover/protocol/index.ts';
import type { CheckpointMetadata } from '../../../src/checkpoint/types.ts';

const meta = (operators: CheckpointMetadata['operators']): CheckpointMetadata => ({
  jobId: 'j',
  checkpointId: 7,
  triggeredAt: 0,
  completedAt: 1,
  maxParallelism: 128,
  operators,
  exclusiveFiles: [],
});
const source = (uid: string, ...subtasks: unknown[]) => ({ uid, parallelism: subtasks.length, keyed: [], subtasks: subtasks.map((state, subtaskIndex) => ({ subtaskIndex, state })) });
const numeric = () => (a: unknown, b: unknown) => Number(a) - Number(b);

describe('checkpointPositions', () => {
  it('every unfinished split of every subtask, per source uid', () => {
    const m = meta([source('numbers', { splits: [{ id: 'a', offset: 10, end: 99 }] }, { splits: [{ id: 'b', offset: 50 }, { id: 'c', offset: 70 }] }), source('other', { splits: [] })]);
    expect(checkpointPositions(m, ['numbers', 'other'])).toEqual({ positions: { numbers: { a: 10, b: 50, c: 70 }, other: {} } });
  });

  it('a source the running job does not have: no position to cut it at', () => {
    expect(checkpointPositions(meta([]), ['numbers'])).toEqual({ problem: "source 'numbers' has no state in chk-7: the running job does not read it, so there is no position to cut it at" });
  });

  it('hostile states are problems, not positions', () => {
    expect(checkpointPositions(meta([source('s', { splits: 'x' })]), ['s'])).toMatchObject({ problem: expect.stringContaining('splits is not an array') });
    expect(checkpointPositions(meta([source('s', { splits: [{ offset: 1 }] })]), ['s'])).toMatchObject({ problem: expect.stringContaining('without an id') });
    expect(checkpointPositions(meta([source('s', { splits: [null] })]), ['s'])).toMatchObject({ problem: expect.stringContaining('without an id') });
  });
});

describe('positionsCover', () => {
  const held = (...splits: Array<[string, number, boolean?]>) => ({ s: splits.map(([id, offset, finished]) => ({ id, offset, finished: finished === true })) });

  it('at or after on every split covers; behind on one does not, naming it', () => {
    expect(positionsCover({ s: { a: 10, b: 20 } }, held(['a', 10], ['b', 15]), numeric)).toEqual({ covers: true });
    expect(positionsCover({ s: { a: 10, b: 20 } }, held(['a', 11], ['b', 15]), numeric)).toEqual({ covers: false, behind: "source 's', split 'a': the running job is at 10, the shadow at 11" });
  });

  it('a split the running job finished covers; one only the shadow finished does not, until the running job gets there', () => {
    expect(positionsCover({ s: {} }, held(['a', 5]), numeric)).toEqual({ covers: true });
    expect(positionsCover({ s: { a: 90 } }, held(['a', 100, true]), numeric)).toMatchObject({ covers: false });
    expect(positionsCover({ s: { a: 100 } }, held(['a', 100, true]), numeric)).toEqual({ covers: true });
  });

  it('an idle split (no new input) stands where both are: covers, it never stalls the cut', () => {
    expect(positionsCover({ s: { idle: 0, a: 40 } }, held(['idle', 0], ['a', 30]), numeric)).toEqual({ covers: true });
  });

  it('no order for the source, a source missing, offsets that cannot be ordered: problems', () => {
    expect(positionsCover({ s: { a: 1 } }, held(['a', 1]), () => undefined)).toEqual({ problem: "source 's' cannot be cut at positions (its source has no compareOffsets)" });
    expect(positionsCover({}, held(['a', 1]), numeric)).toEqual({ problem: "source 's' has no position in the running job's checkpoint" });
    const throwing = () => () => {
      throw new TypeError("'$' cannot be ordered");
    };
    expect(positionsCover({ s: { a: '$' } }, held(['a', 1]), throwing)).toEqual({ problem: "source 's', split 'a': '$' cannot be ordered" });
    expect(positionsCover({ s: { a: 'x' } }, held(['a', 1]), numeric)).toMatchObject({ problem: expect.stringContaining('cannot be ordered') });
  });
});
