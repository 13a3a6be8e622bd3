// The reduce functions of sum, min, max, minBy and maxBy (Flink's semantics).
import { describe, expect, it } from 'vitest';
import { JobConfigError } from '../../../src/runtime/errors.ts';
import { aggregationReducer, checkAggregationField } from '../../../src/runtime/operators/aggregations.ts';

interface Reading {
  readonly sensor: string;
  readonly celsius: number;
  readonly at: number;
}

const readings: Reading[] = [
  { sensor: 's', celsius: 20, at: 1 },
  { sensor: 's', celsius: 15, at: 2 },
  { sensor: 's', celsius: 25, at: 3 },
  { sensor: 's', celsius: 15, at: 4 },
];

/** What a rolling aggregation emits per record (the first record as it is). */
function rolling<T>(records: readonly T[], reduce: (a: T, v: T) => T): T[] {
  const out: T[] = [];
  let acc: T | undefined;
  for (const r of records) {
    acc = acc === undefined ? r : reduce(acc, r);
    out.push(acc);
  }
  return out;
}

describe('aggregations', () => {
  it('sum keeps the other fields of the first record', () => {
    expect(rolling(readings, aggregationReducer<Reading>('sum', 'celsius')).map((r) => [r.celsius, r.at])).toEqual([
      [20, 1],
      [35, 1],
      [60, 1],
      [75, 1],
    ]);
    expect(rolling([1, 2, 3], aggregationReducer<number>('sum', undefined))).toEqual([1, 3, 6]);
    expect(rolling([1n, 2n], aggregationReducer<bigint>('sum', undefined))).toEqual([1n, 3n]);
    // Tuples by index, copied: the input records are never changed.
    const tuples: Array<[string, number]> = [
      ['a', 1],
      ['b', 2],
    ];
    expect(rolling(tuples, aggregationReducer<[string, number]>('sum', 1))).toEqual([
      ['a', 1],
      ['a', 3],
    ]);
    expect(tuples[0]).toEqual(['a', 1]);
  });

  it('min and max replace the field only, keeping the first record around it', () => {
    expect(rolling(readings, aggregationReducer<Reading>('min', 'celsius')).map((r) => [r.celsius, r.at])).toEqual([
      [20, 1],
      [15, 1],
      [15, 1],
      [15, 1],
    ]);
    expect(rolling(readings, aggregationReducer<Reading>('max', 'celsius')).map((r) => [r.celsius, r.at])).toEqual([
      [20, 1],
      [20, 1],
      [25, 1],
      [25, 1],
    ]);
    expect(rolling(['b', 'a', 'c'], aggregationReducer<string>('max', undefined))).toEqual(['b', 'b', 'c']);
  });

  it('minBy and maxBy return the record holding the extreme; ties keep the first unless first is false', () => {
    expect(rolling(readings, aggregationReducer<Reading>('minBy', 'celsius')).map((r) => r.at)).toEqual([1, 2, 2, 2]);
    expect(rolling(readings, aggregationReducer<Reading>('minBy', 'celsius', false)).map((r) => r.at)).toEqual([1, 2, 2, 4]);
    expect(rolling(readings, aggregationReducer<Reading>('maxBy', 'celsius')).map((r) => r.at)).toEqual([1, 1, 3, 3]);
  });

  it('a field of the wrong type is a TypeError naming it; a bad field spec is a JobConfigError', () => {
    const sum = aggregationReducer<Record<string, unknown>>('sum', 'n');
    expect(() => sum({ n: 1 }, { n: '2' })).toThrow(/sum: field 'n' is string, not a number/);
    expect(() => aggregationReducer<unknown>('min', 0)({ a: 1 }, { a: 2 })).toThrow(/not a tuple/);
    expect(() => aggregationReducer<Record<string, unknown>>('max', 'n')({ n: 1 }, { n: 'x' })).toThrow(/mixes strings and numbers/);
    expect(() => checkAggregationField('sum', -1)).toThrow(JobConfigError);
    expect(() => checkAggregationField('sum', '')).toThrow(/invalid sum field/);
  });
});
