// Tests of Sources.sequence: coverage across parallelism, resuming, rate limiting, validation.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SequenceSplit } from '../../../src/api/sources/index.ts';
import { Sources } from '../../../src/api/sources/index.ts';
import type { Source, SourceSplit } from '../../../src/runtime/types.ts';
import { NO_TIMESTAMP } from '../../../src/runtime/types.ts';
import { configError, drain } from '../helpers.ts';

const ctx = { subtaskIndex: 0, parallelism: 1, uid: 'seq' };

/** Polls until finished; fails on a promise, which an unlimited sequence never returns. */

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function readAll(source: Source<number>, parallelism: number, max: number): number[] {
  return source.createSplits(parallelism).flatMap((split) => drain(source.createReader(split, ctx), max));
}


describe('Sources.sequence', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('covers from..to (inclusive) exactly once, in order, for any parallelism', () => {
    const source = Sources.sequence({ from: -5, to: 94 });
    source.validate();
    for (const parallelism of [1, 2, 3, 7, 16, 99, 100, 101, 250]) {
      for (const max of [1, 3, 1000]) {
        expect(readAll(source, parallelism, max)).toEqual(range(-5, 94));
      }
    }
  });

  it('makes at most as many splits as numbers, contiguous, with deterministic ids', () => {
    const source = Sources.sequence({ from: 10, to: 12 });
    const splits = source.createSplits(8);
    expect(splits).toHaveLength(3);
    expect(splits.map((s) => [s.offset, s.end])).toEqual([
      [10, 10],
      [11, 11],
      [12, 12],
    ]);
    expect(source.createSplits(8)).toEqual(splits);
    expect(new Set(splits.map((s) => s.id)).size).toBe(3);

    const one = Sources.sequence({ from: 7, to: 7 });
    expect(readAll(one, 4, 10)).toEqual([7]);
  });

  it('splits ranges wider than 2^53 exactly', () => {
    const from = -Number.MAX_SAFE_INTEGER;
    const to = Number.MAX_SAFE_INTEGER;
    const splits = Sources.sequence({ from, to }).createSplits(3) as SequenceSplit[];
    expect(splits[0].offset).toBe(from);
    expect(splits[2].end).toBe(to);
    for (let i = 1; i < splits.length; i++) expect(splits[i].offset).toBe(splits[i - 1].end + 1);
    const reader = Sources.sequence({ from, to }).createReader(splits[2], ctx);
    const out: number[] = [];
    reader.poll(2, (v) => out.push(v));
    expect(out).toEqual([splits[2].offset, splits[2].offset + 1]);
  });

  it('resumes from currentSplit() with no gap or repeat', () => {
    const source = Sources.sequence({ from: 0, to: 999 });
    for (const parallelism of [1, 3, 8]) {
      const out: number[] = [];
      for (const split of source.createSplits(parallelism)) {
        let reader = source.createReader(split, ctx);
        let polls = 0;
        while (!reader.finished) {
          reader.poll(13, (v) => out.push(v));
          // Restart from a checkpoint (a cloned split) after every other poll.
          if (++polls % 2 === 0) {
            const snapshot: SourceSplit = structuredClone(reader.currentSplit());
            reader.close();
            reader = source.createReader(snapshot, ctx);
          }
        }
        const done = reader.currentSplit();
        expect(source.createReader(done, ctx).finished).toBe(true);
        expect(source.createReader(done, ctx).poll(10, () => {})).toBe(0);
      }
      expect(out).toEqual(range(0, 999));
    }
  });

  it('respects max and reports 0 when asked for nothing', () => {
    const source = Sources.sequence({ from: 1, to: 10 });
    const reader = source.createReader(source.createSplits(1)[0], ctx);
    const out: number[] = [];
    expect(reader.poll(0, (v) => out.push(v))).toBe(0);
    expect(reader.poll(4, (v) => out.push(v))).toBe(4);
    expect(reader.poll(100, (v) => out.push(v))).toBe(6);
    expect(reader.finished).toBe(true);
    expect(reader.poll(100, (v) => out.push(v))).toBe(0);
    expect(out).toEqual(range(1, 10));
  });

  describe('with ratePerSec', () => {
    it('divides the rate among the splits', () => {
      const splits = Sources.sequence({ from: 0, to: 99, ratePerSec: 100 }).createSplits(4) as SequenceSplit[];
      expect(splits.map((s) => s.ratePerSec)).toEqual([25, 25, 25, 25]);
      expect(Sources.sequence({ from: 0, to: 99 }).createSplits(4).every((s) => !('ratePerSec' in s))).toBe(true);
    });

    it('emits only what is due and otherwise returns a promise that resolves to 0 when the next record is due', async () => {
      vi.useFakeTimers();
      const source = Sources.sequence({ from: 0, to: 99, ratePerSec: 10 });
      const reader = source.createReader(source.createSplits(1)[0], ctx);
      const out: number[] = [];
      const emit = (v: number, ts: number) => {
        expect(ts).toBe(NO_TIMESTAMP);
        out.push(v);
      };

      // The first record is due at once, the next one 100 ms later.
      expect(reader.poll(50, emit)).toBe(1);
      const waiting = reader.poll(50, emit);
      expect(waiting).toBeInstanceOf(Promise);
      let resolved = false;
      void (waiting as Promise<number>).then(() => {
        resolved = true;
      });
      await vi.advanceTimersByTimeAsync(99);
      expect(resolved).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(resolved).toBe(true);
      await expect(waiting).resolves.toBe(0);
      expect(reader.poll(50, emit)).toBe(1);

      // After a stall, what is due is emitted, but never more than max per poll.
      await vi.advanceTimersByTimeAsync(1000);
      expect(reader.poll(4, emit)).toBe(4);
      expect(reader.poll(50, emit)).toBe(6);
      expect(reader.poll(50, emit)).toBeInstanceOf(Promise);
      expect(out).toEqual(range(0, 11));
      reader.close();
    });

    it('finishes at the end of its range and resumes from currentSplit() at the same rate', async () => {
      vi.useFakeTimers();
      const source = Sources.sequence({ from: 1, to: 6, ratePerSec: 20 });
      const [first, second] = source.createSplits(2);
      const reader = source.createReader(first, ctx);
      const out: number[] = [];
      expect(reader.poll(10, (v) => out.push(v))).toBe(1);
      const snapshot = structuredClone(reader.currentSplit()) as SequenceSplit;
      expect(snapshot).toMatchObject({ offset: 2, end: 3, ratePerSec: 10 });

      const resumed = source.createReader(snapshot, ctx);
      expect(resumed.poll(10, (v) => out.push(v))).toBe(1);
      await vi.advanceTimersByTimeAsync(500);
      expect(resumed.poll(10, (v) => out.push(v))).toBe(1);
      expect(resumed.finished).toBe(true);
      expect(resumed.poll(10, (v) => out.push(v))).toBe(0);

      const other = source.createReader(second, ctx);
      await vi.advanceTimersByTimeAsync(1000);
      // Time before the first poll is not owed: the reader starts its clock then.
      expect(other.poll(10, (v) => out.push(v))).toBe(1);
      expect(out).toEqual([1, 2, 3, 4]);
    });

    it('close() settles a pending wait with 0', async () => {
      vi.useFakeTimers();
      const source = Sources.sequence({ from: 0, to: 9, ratePerSec: 0.001 });
      const reader = source.createReader(source.createSplits(1)[0], ctx);
      expect(reader.poll(10, () => {})).toBe(1);
      const waiting = reader.poll(10, () => {});
      expect(waiting).toBeInstanceOf(Promise);
      reader.close();
      await expect(waiting).resolves.toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  it('names the bad option in validation errors', () => {
    const bad = (options: unknown) => configError(() => Sources.sequence(options as { from: number; to: number }).validate());
    expect(bad({ from: 1.5, to: 3 }).option).toBe('Sources.sequence from');
    expect(bad({ from: Number.MAX_SAFE_INTEGER + 1, to: Number.MAX_SAFE_INTEGER + 2 }).option).toBe('Sources.sequence from');
    expect(bad({ from: '1', to: 3 }).option).toBe('Sources.sequence from');
    expect(bad({ from: 1, to: Number.NaN }).option).toBe('Sources.sequence to');
    expect(bad({ from: 1, to: Number.POSITIVE_INFINITY }).option).toBe('Sources.sequence to');
    expect(bad({ from: 5, to: 4 }).option).toBe('Sources.sequence to');
    expect(bad({ from: 1, to: 3, ratePerSec: 0 }).option).toBe('Sources.sequence ratePerSec');
    expect(bad({ from: 1, to: 3, ratePerSec: -1 }).option).toBe('Sources.sequence ratePerSec');
    expect(bad({ from: 1, to: 3, ratePerSec: Number.POSITIVE_INFINITY }).option).toBe('Sources.sequence ratePerSec');
    expect(bad({ from: 1, to: 3, ratePerSec: Number.NaN }).option).toBe('Sources.sequence ratePerSec');
    expect(bad({ from: 1, to: 3, ratePerSec: Number.NaN }).message).toMatch(/^invalid Sources\.sequence ratePerSec: /);
    expect(() => Sources.sequence({ from: 4, to: 4, ratePerSec: 0.5 }).validate()).not.toThrow();
  });
});
