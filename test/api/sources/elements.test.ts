// Tests of Sources.elements: one split, in order, resumable by index.
import { describe, expect, it } from 'vitest';
import { Sources } from '../../../src/api/sources/index.ts';
import { JobConfigError } from '../../../src/runtime/errors.ts';
import { NO_TIMESTAMP } from '../../../src/runtime/types.ts';

const ctx = { subtaskIndex: 0, parallelism: 1, uid: 'elements' };

describe('Sources.elements', () => {
  it('emits the values in order from a single split', () => {
    const values = ['a', 'b', 'c', 'd', 'e'];
    const source = Sources.elements(values);
    source.validate();
    expect(source.maxSourceParallelism).toBe(1);
    const splits = source.createSplits(4);
    expect(splits).toEqual([{ id: 'elements-0', offset: 0, end: 5 }]);
    const reader = source.createReader(splits[0], ctx);
    const out: string[] = [];
    const emit = (v: string, ts: number) => {
      expect(ts).toBe(NO_TIMESTAMP);
      out.push(v);
    };
    expect(reader.poll(2, emit)).toBe(2);
    expect(reader.finished).toBe(false);
    expect(reader.poll(0, emit)).toBe(0);
    expect(reader.poll(10, emit)).toBe(3);
    expect(reader.finished).toBe(true);
    expect(reader.poll(10, emit)).toBe(0);
    expect(out).toEqual(values);
  });

  it('resumes from currentSplit() at the next element', () => {
    const values = [10, 20, 30, 40];
    const source = Sources.elements(values);
    const reader = source.createReader(source.createSplits(1)[0], ctx);
    const out: number[] = [];
    reader.poll(3, (v) => out.push(v));
    const snapshot = structuredClone(reader.currentSplit());
    expect(snapshot.offset).toBe(3);
    const resumed = source.createReader(snapshot, ctx);
    resumed.poll(10, (v) => out.push(v));
    expect(out).toEqual(values);
    expect(source.createReader(resumed.currentSplit(), ctx).finished).toBe(true);
  });

  it('is finished at once when empty', () => {
    const source = Sources.elements<number>([]);
    const reader = source.createReader(source.createSplits(1)[0], ctx);
    expect(reader.finished).toBe(true);
    expect(reader.poll(10, () => {})).toBe(0);
  });

  it('rejects values that are not an array', () => {
    const source = Sources.elements('abc' as unknown as string[]);
    expect(() => source.validate()).toThrow(JobConfigError);
    expect(() => source.validate()).toThrow(/Sources\.elements values/);
  });
});
