// Rolling aggregations of a keyed stream (sum, min, max, minBy, maxBy) as reduce functions, with
// Flink's semantics: sum/min/max keep the other fields of the key's first record, minBy/maxBy
// return the record holding the extreme value.
import { JobConfigError } from '../errors.ts';

export type AggregationKind = 'sum' | 'min' | 'max' | 'minBy' | 'maxBy';

/** The field aggregated: a property name, a tuple (array) index, or undefined for the record itself. */
export type AggregationField = string | number | undefined;

type Comparable = number | bigint | string;

/** Checks the field given to an aggregation while the job is built. */
export function checkAggregationField(kind: AggregationKind, field: AggregationField): void {
  if (field === undefined) return;
  if (typeof field === 'string' && field.length > 0) return;
  if (typeof field === 'number' && Number.isInteger(field) && field >= 0) return;
  throw new JobConfigError(`${kind} field`, `must be a property name or a tuple index >= 0, got ${JSON.stringify(field)}`);
}

function describeField(field: AggregationField): string {
  return field === undefined ? 'the record' : typeof field === 'number' ? `index ${field}` : `field '${field}'`;
}

function read(record: unknown, field: AggregationField): unknown {
  if (field === undefined) return record;
  if (typeof record !== 'object' || record === null) throw new TypeError(`cannot read ${describeField(field)} of ${record === null ? 'null' : typeof record}`);
  if (typeof field === 'number' && !Array.isArray(record)) throw new TypeError(`cannot read ${describeField(field)}: the record is not a tuple (array)`);
  return (record as Record<string | number, unknown>)[field];
}

/** A copy of `record` with `field` set (the record itself is never changed: it may be another operator's). */
function write<T>(record: T, field: AggregationField, value: unknown): T {
  if (field === undefined) return value as T;
  if (Array.isArray(record)) {
    const copy = record.slice();
    copy[field as number] = value;
    return copy as T;
  }
  return { ...(record as object), [field]: value } as T;
}

function numberOf(value: unknown, kind: AggregationKind, field: AggregationField): number | bigint {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  throw new TypeError(`${kind}: ${describeField(field)} is ${value === null ? 'null' : typeof value}, not a number`);
}

function comparableOf(value: unknown, kind: AggregationKind, field: AggregationField): Comparable {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
  throw new TypeError(`${kind}: ${describeField(field)} is ${value === null ? 'null' : typeof value}, not a number, bigint or string`);
}

function compare(a: Comparable, b: Comparable, kind: AggregationKind, field: AggregationField): number {
  if ((typeof a === 'string') !== (typeof b === 'string')) throw new TypeError(`${kind}: ${describeField(field)} mixes strings and numbers`);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The reduce function of an aggregation. `first` (minBy/maxBy): on a tie keep the earlier record
 * (true, the default) or take the later one.
 *
 * @example aggregationReducer('sum', 'amount')({ user: 'a', amount: 1 }, { user: 'a', amount: 2 }) // { user: 'a', amount: 3 }
 */
export function aggregationReducer<T>(kind: AggregationKind, field: AggregationField, first = true): (accumulated: T, value: T) => T {
  checkAggregationField(kind, field);
  switch (kind) {
    case 'sum':
      return (acc, value) => {
        const a = numberOf(read(acc, field), kind, field);
        const b = numberOf(read(value, field), kind, field);
        if (typeof a !== typeof b) throw new TypeError(`sum: ${describeField(field)} mixes numbers and bigints`);
        return write(acc, field, (a as number) + (b as number));
      };
    case 'min':
    case 'max': {
      const sign = kind === 'min' ? 1 : -1;
      return (acc, value) => {
        const a = comparableOf(read(acc, field), kind, field);
        const b = comparableOf(read(value, field), kind, field);
        return sign * compare(b, a, kind, field) < 0 ? write(acc, field, b) : acc;
      };
    }
    case 'minBy':
    case 'maxBy': {
      const sign = kind === 'minBy' ? 1 : -1;
      return (acc, value) => {
        const c = sign * compare(comparableOf(read(value, field), kind, field), comparableOf(read(acc, field), kind, field), kind, field);
        return c < 0 || (c === 0 && !first) ? value : acc;
      };
    }
  }
}
