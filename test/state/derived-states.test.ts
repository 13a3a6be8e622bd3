// ReducingState and AggregatingState on top of value state (plain and with a TTL).
import { describe, expect, it } from 'vitest';
import { ValueAggregatingState, ValueReducingState } from '../../src/state/derived-states.ts';
import { HeapKeyedStateBackend } from '../../src/state/heap/heap-keyed-state-backend.ts';
import { type TtlStored, TtlValueState } from '../../src/state/ttl/ttl-state.ts';

const backend = () => new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128 });

describe('ReducingState', () => {
  it('folds values per key with the reduce function; empty reads undefined', () => {
    const b = backend();
    const max = new ValueReducingState<number>(b.valueState('max'), (a, v) => Math.max(a, v));
    b.setCurrentKey('x');
    expect(max.get()).toBeUndefined();
    for (const v of [3, 9, 4]) max.add(v);
    b.setCurrentKey('y');
    max.add(-1);
    expect(max.get()).toBe(-1);
    b.setCurrentKey('x');
    expect(max.get()).toBe(9);
    max.clear();
    expect(max.get()).toBeUndefined();
  });
});

describe('AggregatingState', () => {
  const average = {
    createAccumulator: () => ({ sum: 0, count: 0 }),
    add: (v: number, acc: { sum: number; count: number }) => ({ sum: acc.sum + v, count: acc.count + 1 }),
    getResult: (acc: { sum: number; count: number }) => acc.sum / acc.count,
  };

  it('aggregates into an accumulator per key and reads its result', () => {
    const b = backend();
    const avg = new ValueAggregatingState(b.valueState<{ sum: number; count: number }>('avg'), average);
    b.setCurrentKey(1);
    expect(avg.get()).toBeUndefined();
    avg.add(2);
    avg.add(4);
    expect(avg.get()).toBe(3);
    expect(b.valueState('avg').value()).toEqual({ sum: 6, count: 2 });
    avg.clear();
    expect(avg.get()).toBeUndefined();
  });

  it('with a TTL the accumulator expires as a whole and starts over', () => {
    const b = backend();
    let now = 0;
    const ttl = { ms: 100, updateOnRead: false, returnExpired: false };
    const inner = new TtlValueState(
      'avg',
      b.valueState<TtlStored<{ sum: number; count: number }>>('avg'),
      ttl,
      () => now,
    );
    const avg = new ValueAggregatingState(inner, average);
    b.setCurrentKey(1);
    avg.add(10);
    now = 50;
    avg.add(20);
    now = 149;
    expect(avg.get()).toBe(15);
    now = 150;
    expect(avg.get()).toBeUndefined();
    avg.add(1);
    expect(avg.get()).toBe(1);
  });
});
