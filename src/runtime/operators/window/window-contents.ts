// What a window keeps of its elements: an accumulator, a reduced value, or every element.
import { JobConfigError } from '../../errors.ts';
import type { AggregateFunction } from '../types.ts';

/**
 * How a window holds its elements in keyed state (MapState `stateName`, one entry per window):
 * `S` is the stored value. `add` and `merge` may reuse their arguments (the caller writes the
 * result back); `result` is what a result function or a plain emission gets, `elements` what a
 * process window function gets.
 */
export interface WindowContents<T, S, R> {
  readonly stateName: string;
  add(stored: S | undefined, value: T): S;
  /** Combines two windows that merge (sessions): `a` is the earlier one. */
  merge(a: S, b: S): S;
  result(stored: S): R;
  elements(stored: S): readonly unknown[];
}

/**
 * Incremental aggregation: one accumulator per window. Merging windows (sessions) need the
 * aggregate's `merge`, as in Flink.
 *
 * @example aggregateContents({ createAccumulator: () => 0, add: (v, n) => n + 1, getResult: (n) => n })
 */
export function aggregateContents<T, ACC, R>(aggregate: AggregateFunction<T, ACC, R>): WindowContents<T, ACC, R> {
  return {
    stateName: 'window-accumulators',
    add: (stored, value) => aggregate.add(value, stored === undefined ? aggregate.createAccumulator() : stored),
    merge: (a, b) => {
      if (typeof aggregate.merge !== 'function') {
        // Checked when the job is defined; a restored or changed job may still get here.
        throw new JobConfigError('aggregate', 'session windows merge accumulators: the AggregateFunction needs merge(a, b)');
      }
      return aggregate.merge(a, b);
    },
    result: (stored) => aggregate.getResult(stored),
    elements: (stored) => [aggregate.getResult(stored)],
  };
}

/**
 * Incremental reduction: one value per window.
 *
 * @example reduceContents((a: number, b: number) => a + b)
 */
export function reduceContents<T>(reduce: (accumulated: T, value: T) => T): WindowContents<T, T, T> {
  return {
    stateName: 'window-reduced',
    add: (stored, value) => (stored === undefined ? value : reduce(stored, value)),
    merge: (a, b) => reduce(a, b),
    result: (stored) => stored,
    elements: (stored) => [stored],
  };
}

/**
 * Every element, in arrival order, for a process window function.
 *
 * @example listContents<Click>()
 */
export function listContents<T>(): WindowContents<T, T[], readonly T[]> {
  return {
    stateName: 'window-elements',
    add: (stored, value) => {
      // The stored array is ours to extend: the operator writes it back with put().
      const list = stored ?? [];
      list.push(value);
      return list;
    },
    merge: (a, b) => a.concat(b),
    result: (stored) => stored,
    // A copy: the stored array stays in state (a window may fire again), whatever the function does with it.
    elements: (stored) => stored.slice(),
  };
}
