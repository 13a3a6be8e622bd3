// RecordWriterOutput: forward, round-robin rebalance and key-group hash routing onto real ChannelWriters.
import { describe, expect, it } from 'vitest';
import { ChannelWriter } from '../../../src/runtime/channels/channel-writer.ts';
import { UnsupportedRecordValueError } from '../../../src/runtime/errors.ts';
import { UserFunctionError } from '../../../src/runtime/errors.ts';
import { type EdgeWriters, RecordWriterOutput } from '../../../src/runtime/task/record-writer-output.ts';
import type { KeySelector, OperatorMetrics, Partitioning } from '../../../src/runtime/types.ts';
import { NO_TIMESTAMP } from '../../../src/runtime/types.ts';
import { keyGroupFor, keyGroupRangeContains, keyGroupRangeFor, subtaskForKeyGroup } from '../../../src/state/key-groups.ts';
import type { KeyValue } from '../../../src/state/types.ts';
import { RecordingTransport } from '../fixtures.ts';

interface Edge {
  edge: EdgeWriters;
  transports: RecordingTransport[];
  writers: ChannelWriter[];
}

function edge(partitioning: Partitioning, width: number, extra: { keySelector?: KeySelector<unknown>; keyOwnerUid?: string } = {}): Edge {
  const transports = Array.from({ length: width }, () => new RecordingTransport());
  const writers = transports.map((t, i) => new ChannelWriter(i, t, 1000, 1000, () => {}, 'local'));
  return { edge: { partitioning, writers, ...extra }, transports, writers };
}

function flushAll(edges: Edge[]): void {
  for (const e of edges) for (const w of e.writers) w.flush();
}

function output(edges: Edge[], maxParallelism = 128, subtaskIndex = 0) {
  const metrics: OperatorMetrics = { recordsIn: 0, recordsOut: 0 };
  return { out: new RecordWriterOutput(edges.map((e) => e.edge), metrics, maxParallelism, subtaskIndex, 'producer'), metrics };
}

describe('RecordWriterOutput', () => {
  it('sends every record of a forward edge to its single writer, with timestamps', () => {
    const e = edge('forward', 1);
    const { out, metrics } = output([e]);
    out.collect('a', 1);
    out.collect('b', NO_TIMESTAMP);
    flushAll([e]);
    expect(e.transports[0].sent).toEqual([{ values: ['a', 'b'], timestamps: [1, NO_TIMESTAMP], watermark: undefined, end: false }]);
    expect(metrics.recordsOut).toBe(2);
  });

  it('rebalances round-robin, starting at the producer subtask index', () => {
    const e = edge('rebalance', 3);
    const { out } = output([e], 128, 1);
    for (let i = 0; i < 7; i++) out.collect(i, NO_TIMESTAMP);
    flushAll([e]);
    expect(e.transports.map((t) => t.records)).toEqual([[2, 5], [0, 3, 6], [1, 4]]);
  });

  it('routes by key group exactly like keyGroupFor/subtaskForKeyGroup, onto the subtask owning that group', () => {
    const maxParallelism = 16;
    const parallelism = 3;
    const e = edge('hash', parallelism, { keySelector: (v) => (v as { k: KeyValue }).k, keyOwnerUid: 'agg' });
    const { out } = output([e], maxParallelism);
    const keys: KeyValue[] = [...Array.from({ length: 60 }, (_, i) => `user-${i}`), 0, -7, 3.25, 10n, true, false];
    for (const k of keys) out.collect({ k }, NO_TIMESTAMP);
    flushAll([e]);
    const used = new Set<number>();
    for (let subtask = 0; subtask < parallelism; subtask++) {
      const range = keyGroupRangeFor(subtask, parallelism, maxParallelism);
      for (const record of e.transports[subtask].records) {
        const key = (record as { k: KeyValue }).k;
        const group = keyGroupFor(key, maxParallelism);
        expect(subtaskForKeyGroup(group, maxParallelism, parallelism)).toBe(subtask);
        expect(keyGroupRangeContains(range, group)).toBe(true);
        used.add(subtask);
      }
    }
    expect(used.size).toBe(parallelism);
    expect(e.transports.reduce((n, t) => n + t.records.length, 0)).toBe(keys.length);
  });

  it('sends equal keys to the same writer', () => {
    const e = edge('hash', 4, { keySelector: (v) => (v as string).split(':')[0] });
    const { out } = output([e]);
    for (const v of ['a:1', 'b:1', 'a:2', 'c:1', 'b:2', 'a:3']) out.collect(v, NO_TIMESTAMP);
    flushAll([e]);
    const writerOf = (prefix: string) => e.transports.findIndex((t) => t.records.some((r) => (r as string).startsWith(`${prefix}:`)));
    for (const prefix of ['a', 'b', 'c']) {
      const holders = e.transports.filter((t) => t.records.some((r) => (r as string).startsWith(`${prefix}:`)));
      expect(holders).toHaveLength(1);
    }
    expect(e.transports[writerOf('a')].records.filter((r) => (r as string).startsWith('a:'))).toEqual(['a:1', 'a:2', 'a:3']);
  });

  it('flushes watermarks to every writer of every edge, with pending records first', () => {
    const a = edge('rebalance', 2);
    const b = edge('forward', 1);
    const { out } = output([a, b]);
    out.collect('x', 5);
    out.emitWatermark(4);
    expect(a.transports[0].sent).toEqual([{ values: ['x'], timestamps: [5], watermark: 4, end: false }]);
    expect(a.transports[1].sent).toEqual([{ values: null, timestamps: null, watermark: 4, end: false }]);
    expect(b.transports[0].sent).toEqual([{ values: ['x'], timestamps: [5], watermark: 4, end: false }]);
  });

  it('sends each record down every edge, counting it once', () => {
    const a = edge('forward', 1);
    const b = edge('rebalance', 2);
    const c = edge('hash', 2, { keySelector: () => 'k' });
    const { out, metrics } = output([a, b, c]);
    out.collect('r1', NO_TIMESTAMP);
    out.collect('r2', NO_TIMESTAMP);
    flushAll([a, b, c]);
    expect(a.transports[0].records).toEqual(['r1', 'r2']);
    expect(b.transports.map((t) => t.records)).toEqual([['r1'], ['r2']]);
    expect(c.transports.flatMap((t) => t.records)).toEqual(['r1', 'r2']);
    expect(metrics.recordsOut).toBe(2);
  });

  it('turns a throwing key selector into an UserFunctionError naming the keyed consumer', () => {
    const cause = new Error('no key');
    const e = edge('hash', 2, {
      keySelector: () => {
        throw cause;
      },
      keyOwnerUid: 'per-user-count',
    });
    const { out } = output([e], 128, 4);
    let error: unknown;
    try {
      out.collect({}, NO_TIMESTAMP);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserFunctionError);
    expect(error).toMatchObject({ operatorUid: 'per-user-count', subtaskIndex: 4, original: cause });
  });

  it('turns a key selector returning an object into an UserFunctionError naming the keyed consumer', () => {
    const e = edge('hash', 2, { keySelector: (v) => v as KeyValue, keyOwnerUid: 'by-object' });
    const { out } = output([e]);
    expect(() => out.collect({ not: 'a key' }, NO_TIMESTAMP)).toThrow(expect.objectContaining({ name: 'UserFunctionError', operatorUid: 'by-object' }));
    expect(e.transports.flatMap((t) => t.records)).toEqual([]);
  });

  it.each([
    ['forward', 1],
    ['rebalance', 2],
    ['hash', 2],
  ] as const)('refuses a record a channel would change (%s edge): the same typed error whichever writer it goes to, nothing sent', (partitioning, width) => {
    const e = edge(partitioning, width, partitioning === 'hash' ? { keySelector: (v) => (v as { k: number }).k, keyOwnerUid: 'keyed' } : {});
    const { out, metrics } = output([e], 128, 3);
    for (let k = 0; k < 4; k++) {
      let error: unknown;
      try {
        out.collect({ k, payload: { fn: () => k } }, NO_TIMESTAMP);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UnsupportedRecordValueError);
      expect(error).toMatchObject({ code: 'BATON_ERR_UNSUPPORTED_VALUE', operatorUid: 'producer', subtaskIndex: 3, valueType: 'function', path: 'record.payload.fn' });
    }
    flushAll([e]);
    expect(e.transports.flatMap((t) => t.records)).toEqual([]);
    expect(metrics.recordsOut).toBe(0);
  });

  it('passes primitives, plain objects, arrays, Maps, Dates, bytes and bigints through unchanged', () => {
    const e = edge('forward', 1);
    const { out } = output([e]);
    const values = [1, 'a', null, undefined, 2n ** 90n, { a: [1, { b: new Map([[1, new Date(0)]]) }] }, new Uint8Array([1])];
    for (const v of values) out.collect(v, NO_TIMESTAMP);
    flushAll([e]);
    expect(e.transports[0].records).toEqual(values);
  });
});
