// Operator list state: snapshot, redistribution on restore (even split, union), mode checks.
import { describe, expect, it } from 'vitest';
import { JobConfigError } from '../../../src/runtime/errors.ts';
import { OperatorStateBackend, redistributeOperatorLists } from '../../../src/runtime/operators/operator-state.ts';

const saved = (...lists: Array<[string, 'split' | 'union', unknown[]]>) => ({ operatorLists: lists });

describe('redistributeOperatorLists', () => {
  const old = [saved(['buf', 'split', [1, 2, 3]], ['seen', 'union', ['a']]), saved(['buf', 'split', [4, 5]], ['seen', 'union', ['b']]), undefined];

  it('at the same parallelism each subtask keeps its own split lists', () => {
    expect(redistributeOperatorLists(old, 0, 3).get('buf')?.values).toEqual([1, 2, 3]);
    expect(redistributeOperatorLists(old, 1, 3).get('buf')?.values).toEqual([4, 5]);
    expect(redistributeOperatorLists(old, 2, 3).get('buf')?.values).toEqual([]);
  });

  it('at another parallelism split lists are cut evenly in subtask order; every element lands once', () => {
    for (const p of [1, 2, 4, 7]) {
      const parts = Array.from({ length: p }, (_, i) => redistributeOperatorLists(old, i, p).get('buf')?.values ?? []);
      expect(parts.flat()).toEqual([1, 2, 3, 4, 5]);
      const sizes = parts.map((x) => x.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(redistributeOperatorLists(old, 0, 2).get('buf')?.values).toEqual([1, 2]);
    expect(redistributeOperatorLists(old, 1, 2).get('buf')?.values).toEqual([3, 4, 5]);
  });

  it('union lists go whole to every subtask, at any parallelism', () => {
    for (const [i, p] of [
      [0, 1],
      [1, 2],
      [2, 3],
    ]) {
      expect(redistributeOperatorLists(old, i, p).get('seen')).toEqual({ mode: 'union', values: ['a', 'b'] });
    }
  });

  it('refuses a state that is not operator list state', () => {
    expect(() => redistributeOperatorLists([{ timers: [] }], 0, 1)).toThrow(TypeError);
    expect(() => redistributeOperatorLists([saved(['x', 'sometimes' as 'split', []])], 0, 1)).toThrow(TypeError);
  });
});

describe('OperatorStateBackend', () => {
  it('snapshots copies of its lists, and nothing when the function has no operator state', () => {
    const b = new OperatorStateBackend('op', 0, 1);
    expect(b.snapshot()).toBeUndefined();
    const list = b.listState<number>('buf');
    list.addAll([1, 2]);
    const snap = b.snapshot();
    list.add(3);
    expect(snap).toEqual({ operatorLists: [['buf', 'split', [1, 2]]] });
    list.update([9]);
    expect(list.get()).toEqual([9]);
    list.clear();
    expect(b.snapshot()).toEqual({ operatorLists: [['buf', 'split', []]] });
  });

  it('restores before the function registers its lists; lists it never registers are kept in later snapshots', () => {
    const b = new OperatorStateBackend('op', 1, 2);
    b.restore([saved(['buf', 'split', [1, 2, 3, 4]], ['names', 'union', ['x']])]);
    expect(b.listState('buf').get()).toEqual([3, 4]);
    expect(b.snapshot()).toEqual({ operatorLists: [['buf', 'split', [3, 4]], ['names', 'union', ['x']]] });
    expect(b.unionListState('names').get()).toEqual(['x']);
  });

  it('a list used as the other kind is a JobConfigError naming it and the operator', () => {
    const b = new OperatorStateBackend('op', 0, 1);
    b.listState('buf');
    expect(() => b.unionListState('buf')).toThrow(JobConfigError);
    expect(() => b.unionListState('buf')).toThrow(/operator state 'buf' of 'op'.*is a listState; cannot use it as unionListState/);
    const restored = new OperatorStateBackend('op', 0, 1);
    restored.restore([saved(['u', 'union', [1]])]);
    expect(() => restored.listState('u')).toThrow(/is a unionListState/);
    expect(() => new OperatorStateBackend('op', 0, 1).restore([{ timers: [] }])).toThrow(/restored state of operator 'op'/);
  });
});
