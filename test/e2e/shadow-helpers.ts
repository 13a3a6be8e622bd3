// Helpers of the shadow handover tests: the live input's gates, what one uninterrupted run commits, waiting on job events.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { JobHandle, JobResult, JobStatus } from '../../src/index.ts';
import { committedLines } from './checkpoint-helpers.ts';
import { eventTime, splitWatermark } from '../support/gated-log.ts';
import { KEY_SPREAD, WINDOW_MS } from './jobs/shadow-job.ts';

/** The gate of a gated log: `openThrough(k)` makes segments 0..k readable (to every deployment reading it). */
export function logGate(dir: string): { readonly dir: string; openThrough(k: number): void; readonly open: number } {
  mkdirSync(dir, { recursive: true });
  let open = -1;
  return {
    dir,
    openThrough(k: number) {
      while (open < k) writeFileSync(join(dir, `open-${++open}`), '');
    },
    get open() {
      return open;
    },
  };
}

/** Where a cut is: per split of log `log` (splits 0..n-1), the index of the first record on the new side. */
export type SplitCut = (log: string, s: number) => number;

/**
 * Every line one uninterrupted run of shadow-job commits for records 0..n-1 of each split (and
 * every window of them, all fired: the run ends with `terminate`), each line tagged with the code
 * version on its side of the cut: `before` for records before `cut` (and windows that fired before
 * it, at the watermark the cut carries), `after` for the rest. Sorted.
 */
export function expectedLines(logs: ReadonlyArray<{ log: string; splits: number; records: number }>, cut: SplitCut | undefined, before = 'A', after = 'A'): { lines: string[]; windows: string[] } {
  const lines: string[] = [];
  const windows: string[] = [];
  // A window fires once the watermark reaches its end - 1; at the cut the watermark is the lowest of
  // the event log's splits (the only source feeding the windows).
  const events = logs.find((l) => l.log === 'ev');
  const cutWatermark = cut && events ? Math.min(...Array.from({ length: events.splits }, (_, s) => splitWatermark(s, cut('ev', s)))) : Number.NEGATIVE_INFINITY;
  for (const { log, splits, records } of logs) {
    for (let s = 0; s < splits; s++) {
      const sums = new Map<number, { count: number; sum: number }>();
      const counts = new Map<number, number>();
      for (let i = 0; i < records; i++) {
        const k = i % KEY_SPREAD;
        const acc = sums.get(k) ?? { count: 0, sum: 0 };
        acc.count++;
        acc.sum += i;
        sums.set(k, acc);
        const version = cut && i >= cut(log, s) ? after : before;
        lines.push(`${version}|${log}-${s}-${k}|${log}:${s}:${i}|${acc.count}|${acc.sum}`);
        if (log === 'ev') {
          const start = Math.floor(eventTime(s, i) / WINDOW_MS) * WINDOW_MS;
          counts.set(start, (counts.get(start) ?? 0) + 1);
        }
      }
      for (const [start, count] of counts) {
        const version = cut && start + WINDOW_MS - 1 > cutWatermark ? after : before;
        windows.push(`${version}|w|${log}-${s}|${start}|${count}`);
      }
    }
  }
  return { lines: lines.sort(), windows: windows.sort() };
}

/** Resolves at the first status event (or the current status) that is `status`; rejects if the job ends first. */
export function reached(job: JobHandle, status: JobStatus): Promise<void> {
  if (job.statusHistory.some((e) => e.status === status)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    job.on('status', (e) => {
      if (e.status === status) resolve();
      else if (['FINISHED', 'FAILED', 'CANCELED', 'SUSPENDED'].includes(e.status)) reject(new Error(`job ${job.jobId} ended ${e.status} before ${status}`));
    });
  });
}

/** Resolves with the first 'handover' event for which `test` holds. */
export function handoverEvent(job: JobHandle, test: (e: { phase: string; detail?: string; checkpointId?: number }) => boolean): Promise<{ phase: string; detail?: string; checkpointId?: number }> {
  return new Promise((resolve) => {
    job.on('handover', (e) => {
      if (test(e)) resolve(e);
    });
  });
}

/** Resolves once `job` completed a checkpoint with id ≥ `id`. */
export function checkpointed(job: JobHandle, id: number): Promise<void> {
  return new Promise((resolve) => {
    job.on('checkpoint', (c) => {
      if (c.status === 'COMPLETED' && c.id >= id) resolve();
    });
  });
}

/** Resolves once the job's progress reports show source `uid` emitted at least `records` (all subtasks, this attempt). */
export function sourceRead(job: JobHandle, uid: string, records: number): Promise<void> {
  return new Promise((resolve) => {
    job.on('progress', (p) => {
      if ((p.operators[uid]?.recordsOut ?? 0) >= records) resolve();
    });
  });
}

/** Resolves at the first 'handover' event of `phase` (from now on) after which `test()` holds. */
export function untilAfter(job: JobHandle, phase: string, test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (e: { phase: string }) => {
      if (e.phase !== phase || !test()) return;
      job.off('handover', check);
      resolve();
    };
    job.on('handover', check);
  });
}

/** Whether `lines` hold the line of record `i` of every split 0..splits-1 of log `log`. */
export function hasRecords(lines: readonly string[], log: string, splits: number, i: number): boolean {
  return Array.from({ length: splits }, (_, s) => `|${log}:${s}:${i}|`).every((needle) => lines.some((l) => l.includes(needle)));
}

/**
 * A (version A, on gate `gate`, output under `<dir>/out-a`) reads segments 0-5 alone and ends with
 * `terminate`: its committed output must be one uninterrupted run's, and B (`<dir>/out-b`)
 * committed nothing. Resolves with A's result.
 */
export async function expectAWhole(dir: string, a: JobHandle, gate: { openThrough(k: number): void }, segment: number, splits: number): Promise<JobResult> {
  gate.openThrough(5);
  await sourceRead(a, 'events', 6 * segment * splits);
  const ra = await a.stop({ mode: 'terminate' });
  expect(ra.status).toBe('FINISHED');
  const expected = expectedLines([{ log: 'ev', splits, records: 6 * segment }], undefined, 'A');
  expect(committedLines(join(dir, 'out-a', 'lines'))).toEqual(expected.lines);
  expect(committedLines(join(dir, 'out-a', 'windows'))).toEqual(expected.windows);
  expect(committedLines(join(dir, 'out-b', 'lines'))).toEqual([]);
  expect(committedLines(join(dir, 'out-b', 'windows'))).toEqual([]);
  return ra;
}
