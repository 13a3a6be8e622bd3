// Which record values a channel carries faithfully: the rule, checked against what the batch codec really does.
import { describe, expect, it } from 'vitest';
import { BatchDecoder, BatchEncoder } from '../../../src/runtime/channels/batch-codec.ts';
import { findUnsupportedValue, MAX_RECORD_DEPTH } from '../../../src/runtime/channels/record-values.ts';

class Tags extends Array<string> {}

class Point {
  constructor(readonly x: number) {}
  norm(): number {
    return Math.abs(this.x);
  }
}

function roundTrip(value: unknown): unknown {
  const { wire } = new BatchEncoder().encode({ values: [value], timestamps: null });
  return new BatchDecoder().decode(wire).values![0];
}

/** Same value, same types all the way down (Buffer for Uint8Array, by the documented rule). */
function sameShape(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object' || a === null) return Object.is(a, b) || (a === 0 && b === 0);
  if (b === null || typeof b !== 'object') return false;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    const bs = [...b];
    return [...a].every(([k, v], i) => sameShape(k, bs[i][0]) && sameShape(v, bs[i][1]));
  }
  if (Array.isArray(a)) return Array.isArray(b) && Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && a.length === b.length && a.every((x, i) => sameShape(x, b[i]));
  // Anything else must keep its prototype (a null prototype may become Object.prototype, by the rule).
  const proto = Object.getPrototypeOf(a);
  if (Object.getPrototypeOf(b) !== (proto === null ? Object.prototype : proto)) return false;
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  return ak.length === bk.length && ak.every((k, i) => k === bk[i] && sameShape((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const faithful: Record<string, unknown> = {
  string: 'text',
  integer: 42,
  float: 1.5,
  nan: Number.NaN,
  infinity: Number.NEGATIVE_INFINITY,
  negativeZero: -0,
  boolean: false,
  null: null,
  undefined: undefined,
  bigint: 7n,
  hugeBigint: 2n ** 100n,
  negativeHugeBigint: -(2n ** 80n),
  plainObject: { a: 1, b: 'x', nested: { c: [1, 2, { d: null }] }, missing: undefined },
  nullPrototypeObject: Object.assign(Object.create(null) as object, { a: 1 }),
  array: [1, 'two', [3], { four: 4 }],
  map: new Map<unknown, unknown>([
    [1, 'a'],
    ['k', { x: [1n] }],
  ]),
  date: new Date(1_700_000_000_000),
  invalidDate: new Date(Number.NaN),
  bytes: new Uint8Array([1, 2, 3]),
  buffer: Buffer.from('abc'),
};

const refused: Record<string, { value: unknown; path: string; type: string }> = {
  function: { value: () => 1, path: 'record', type: 'function' },
  symbol: { value: Symbol('s'), path: 'record', type: 'symbol' },
  classInstance: { value: new Point(1), path: 'record', type: 'instance of class Point' },
  nestedFunction: { value: { payload: { fn: () => 1 } }, path: 'record.payload.fn', type: 'function' },
  inArray: { value: [1, { ok: true }, [Symbol('x')]], path: 'record[2][0]', type: 'symbol' },
  oddKey: { value: { 'a-b': new Point(2) }, path: 'record["a-b"]', type: 'instance of class Point' },
  mapValue: { value: new Map([[1, new Set([1])]]), path: 'record<Map value>', type: 'Set' },
  mapKey: { value: new Map([[() => 1, 1]]), path: 'record<Map key>', type: 'function' },
  set: { value: new Set([1]), path: 'record', type: 'Set' },
  arraySubclass: { value: { tags: Tags.from(['a']) }, path: 'record.tags', type: 'instance of class Tags' },
  regexp: { value: /a/g, path: 'record', type: 'RegExp' },
  error: { value: new Error('x'), path: 'record', type: 'Error' },
  float64Array: { value: new Float64Array([1.5]), path: 'record', type: 'Float64Array' },
  arrayBuffer: { value: new ArrayBuffer(2), path: 'record', type: 'ArrayBuffer' },
  boxedNumber: { value: Object(3), path: 'record', type: 'Number' },
  anonymousClass: { value: new (class {})(), path: 'record', type: 'object with a custom prototype' },
};

describe('findUnsupportedValue', () => {
  it.each(Object.entries(faithful))('accepts %s, and the codec gives it back unchanged', (_name, value) => {
    expect(findUnsupportedValue(value)).toBeUndefined();
    expect(findUnsupportedValue({ inside: [value] })).toBeUndefined();
    expect(sameShape(value, roundTrip(value))).toBe(true);
  });

  it.each(Object.entries(refused))('refuses %s, naming where it sits and what it is', (_name, { value, path, type }) => {
    expect(findUnsupportedValue(value)).toEqual({ path, type });
  });

  it('refuses exactly what the codec would change or cannot encode', () => {
    for (const { value } of Object.values(refused)) {
      let changed: boolean;
      try {
        changed = !sameShape(value, roundTrip(value));
      } catch {
        changed = true;
      }
      expect(changed).toBe(true);
    }
  });

  it('refuses a cycle (or nesting deeper than the limit) instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const found = findUnsupportedValue(cyclic);
    expect(found?.type).toContain('nesting deeper than');
    expect(found?.path.startsWith('record.self.self')).toBe(true);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_RECORD_DEPTH; i++) deep = [deep];
    expect(findUnsupportedValue(deep)).toBeUndefined();
    expect(findUnsupportedValue([deep])?.type).toContain('nesting deeper than');
  });
});
