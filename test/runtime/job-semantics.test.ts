// Whole-job semantics in testJob (the real runtime in this thread: subtasks, channels, keyed
// state, timers, checkpoints and the final checkpoint), no worker threads:
// - pipelines at parallelism 1, 2 and 4 give identical results, equal to a direct computation;
// - errors raised by user functions and by records a channel cannot carry name their operator;
// - window contents and timers survive a checkpoint and a restore at another parallelism;
// - incremental checkpoint chains grow and are materialized.
// Their threaded counterparts stay in test/e2e (an error crossing threads, a record crossing a
// MessagePort, stop and terminate on threads); test/testing/fidelity.test.ts checks that such jobs
// give the same output in testJob and on worker threads.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { type JobResult, UnsupportedRecordValueError, UserFunctionError } from '../../src/index.ts';
import type { JobDefinition } from '../../src/runtime/types.ts';
import { keyGroupFor, subtaskForKeyGroup } from '../../src/state/index.ts';
import { testJob } from '../../src/testing/index.ts';
import { committedLines, jobDirs } from '../e2e/checkpoint-helpers.ts';
import { sortedJson } from '../e2e/helpers.ts';
import checkpointedSum from '../e2e/jobs/checkpointed-sum.ts';
import checkpointedWindows from '../e2e/jobs/checkpointed-windows.ts';
import eventTimeWindows, { clickFor, expectedWindows } from '../e2e/jobs/event-time-windows.ts';
import failingMap from '../e2e/jobs/failing-map.ts';
import runningSum from '../e2e/jobs/running-sum.ts';
import timers from '../e2e/jobs/timers.ts';
import unionState from '../e2e/jobs/union-state.ts';
import unsupportedValues, { KEYS } from '../e2e/jobs/unsupported-values.ts';
import wordCount from '../e2e/jobs/word-count.ts';

/** Runs a job of bounded sources (kept as written) in testJob to its end. */
async function runToCompletion(job: JobDefinition, options: { parallelism: number; params?: Record<string, string | number> }): Promise<JobResult> {
  const driver = await testJob(job, { ...options, inputs: [] });
  const result = await driver.finish();
  expect(result.status).toBe('FINISHED');
  return result;
}

const root = mkdtempSync(join(tmpdir(), 'baton-job-semantics-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const PARALLELISMS = [1, 2, 4] as const;

describe('word count over a file', () => {
  let dir: string;
  let input: string;
  const expected = new Map<string, number>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-wordcount-'));
    input = join(dir, 'input.txt');
    const vocabulary = ['stream', 'state', 'barrier', 'handover', 'checkpoint', "don't", 'key', 'group', 'window', 'flink'];
    const lines: string[] = [];
    let seed = 7;
    for (let i = 0; i < 3_000; i++) {
      const words: string[] = [];
      for (let w = (i % 9) + 1; w > 0; w--) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const word = vocabulary[seed % vocabulary.length];
        words.push(i % 5 === 0 ? word.toUpperCase() : word);
        expected.set(word, (expected.get(word) ?? 0) + 1);
      }
      lines.push(words.join(i % 3 === 0 ? ', ' : ' '));
    }
    writeFileSync(input, `${lines.join('\n')}\n`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const finals: Array<Record<string, number>> = [];
  for (const parallelism of PARALLELISMS) {
    it(`counts every word at parallelism ${parallelism}`, async () => {
      const output = join(dir, `out-p${parallelism}`);
      const result = await runToCompletion(wordCount, { parallelism, params: { input, output, splitBytes: 2048 } });
      const final: Record<string, number> = {};
      for (const [word, count] of result.collected.collected as Array<[string, number]>) final[word] = Math.max(final[word] ?? 0, count);
      expect(final).toEqual(Object.fromEntries(expected));
      const totalWords = [...expected.values()].reduce((a, b) => a + b, 0);
      expect(result.operators.words.recordsOut).toBe(totalWords);
      expect(result.operators.counts.recordsIn).toBe(totalWords);
      expect(result.operators.lines.recordsOut).toBe(3_000);
      // The file sink committed one visible part file per subtask, with every update record.
      const visible = readdirSync(output).filter((f) => !f.startsWith('.'));
      expect(visible).toHaveLength(parallelism);
      const written = visible.flatMap((f) => readFileSync(join(output, f), 'utf8').split('\n').filter(Boolean));
      expect(written).toHaveLength(totalWords);
      expect(readdirSync(output).filter((f) => f.startsWith('.'))).toEqual([]);
      finals.push(final);
    });
  }

  it('gives identical results at every parallelism', () => {
    expect(finals).toHaveLength(PARALLELISMS.length);
    for (const final of finals) expect(final).toEqual(finals[0]);
  });
});

describe('keyed running sum over a sequence', () => {
  const to = 20_000;
  const expected: string[] = (() => {
    const sums = new Map<number, number>();
    const out: Array<[number, number]> = [];
    for (let n = 1; n <= to; n++) {
      const key = n % 13;
      const next = (sums.get(key) ?? 0) + n;
      sums.set(key, next);
      out.push([key, next]);
    }
    return sortedJson(out);
  })();

  for (const parallelism of PARALLELISMS) {
    it(`emits every running sum at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion(runningSum, { parallelism, params: { to } });
      expect(sortedJson(result.collected.sums)).toEqual(expected);
      expect(result.operators['running-sum']).toMatchObject({ recordsIn: to, recordsOut: to, parallelism });
    });
  }
});

describe('event-time windows over out-of-order input', () => {
  const count = 30_000;
  const expected = expectedWindows(count);


  it('really is out of order', () => {
    let inversions = 0;
    for (let n = 1; n < 1000; n++) if (clickFor(n).at < clickFor(n - 1).at) inversions++;
    expect(inversions).toBeGreaterThan(100);
  });

  for (const parallelism of PARALLELISMS) {
    it(`aggregates every window exactly once at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion(eventTimeWindows, { parallelism, params: { count } });
      expect(sortedJson(result.collected.windows)).toEqual(expected);
    });
  }
});

describe('timers per key', () => {
  const count = 5_000;
  const outputs: string[][] = [];
  for (const parallelism of PARALLELISMS) {
    it(`fires one event-time and one processing-time timer per key at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion(timers, { parallelism, params: { count } });
      const fired = result.collected.fired as Array<{ sensor: string; domain: string; timer: number; seen: number }>;
      expect(fired).toHaveLength(100);
      for (let k = 0; k < 50; k++) {
        const sensor = `s${k}`;
        const eventTimer = fired.find((f) => f.sensor === sensor && f.domain === 'event-time');
        const processingTimer = fired.find((f) => f.sensor === sensor && f.domain === 'processing-time');
        expect(eventTimer?.timer).toBe(k * 10 + 1_000);
        // The watermark passed the timer only after every record at or before it was processed.
        const recordsUpToTimer = Math.floor((1_000 + k * 10 - k * 10) / 500) + 1;
        expect(eventTimer!.seen).toBeGreaterThanOrEqual(recordsUpToTimer);
        expect(processingTimer?.seen).toBe(count / 50);
      }
      outputs.push(sortedJson(fired));
    });
  }

  it('fires the same timers with the same state at every parallelism', () => {
    expect(outputs).toHaveLength(PARALLELISMS.length);
    for (const output of outputs) expect(output).toEqual(outputs[0]);
  });
});

describe('union, filter, MapState and ListState', () => {
  for (const parallelism of PARALLELISMS) {
    it(`keeps every non-gift order exactly once in some basket at parallelism ${parallelism}`, async () => {
      const result = await runToCompletion(unionState, { parallelism });
      const baskets = result.collected['full-baskets'] as Array<{ customer: string; items: Record<string, number>; history: string[] }>;
      expect(result.operators['no-gifts']).toMatchObject({ recordsIn: 800, recordsOut: 720 });
      // Shop orders of c0 and c5 are all gifts: 40 orders (10 baskets) for them, 80 (20) for the others.
      expect(baskets).toHaveLength(180);
      for (const basket of baskets) {
        expect(basket.history).toHaveLength(4);
        const counted = Object.values(basket.items).reduce((a, b) => a + b, 0);
        expect(counted).toBe(4);
        for (const item of basket.history) expect(basket.items[item]).toBeGreaterThan(0);
      }
      const perCustomer = new Map<string, number>();
      for (const b of baskets) perCustomer.set(b.customer, (perCustomer.get(b.customer) ?? 0) + 1);
      for (let c = 0; c < 10; c++) expect(perCustomer.get(`c${c}`)).toBe(c % 5 === 0 ? 10 : 20);
    });
  }
});

describe('a user function that throws', () => {
  it('fails the job naming operator, subtask and stack (parallelism 1)', async () => {
    const output = join(root, 'failing-1');
    const driver = await testJob(failingMap, { parallelism: 1, inputs: [], params: { failAt: 5_000, output } });
    const error = await driver.finish().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserFunctionError);
    const failure = error as UserFunctionError;
    expect(failure.operatorUid).toBe('boom');
    // Sequence splits are contiguous: record 5000 is read by subtask 0.
    expect(failure.subtaskIndex).toBe(0);
    expect(failure.originalMessage).toBe('cannot handle record 5000');
    expect(failure.originalStack).toContain('explode');
    expect(failure.originalStack).toContain('failing-map.ts');
    expect(failure.message).toContain("operator 'boom' (subtask 0)");
    expect(driver.handle.status).toBe('FAILED');
    expect(driver.handle.statusHistory.at(-1)?.status).toBe('FAILED');
    // Nothing uncommitted became visible.
    const visible = existsSync(output) ? readdirSync(output).filter((f) => !f.startsWith('.')) : [];
    expect(visible).toEqual([]);
  });
});

describe('records a channel cannot carry faithfully', () => {
  const TO = 2_000;
  const MAX_PARALLELISM = 128;

  /** The error of the unsupported-values job (its own sequence source) run to its end. */
  async function failure(parallelism: number, bad: string, at: number): Promise<unknown> {
    const driver = await testJob(unsupportedValues, { parallelism, maxParallelism: MAX_PARALLELISM, inputs: [], params: { bad, at, to: TO } });
    const error = await driver.finish().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(driver.handle.status).toBe('FAILED');
    return error;
  }

  it('a function in a record on a local channel (parallelism 1) fails the job with UnsupportedRecordValueError naming operator, path and type', async () => {
    const error = await failure(1, 'function', TO / 2);
    expect(error).toBeInstanceOf(UnsupportedRecordValueError);
    expect(error).toMatchObject({ code: 'BATON_ERR_UNSUPPORTED_VALUE', operatorUid: 'readings', subtaskIndex: 0, valueType: 'function', path: 'record.payload.fn' });
    expect((error as Error).message).toContain("operator 'readings' (subtask 0)");
  });

  it('a NaN key is rejected like undefined, naming the keyed operator', async () => {
    // A record read by source subtask 0 whose key (were it not NaN) belongs to keyed subtask 1.
    let at = TO / 4;
    while (subtaskForKeyGroup(keyGroupFor(at % KEYS, MAX_PARALLELISM), MAX_PARALLELISM, 2) !== 1) at++;
    expect(at).toBeLessThanOrEqual(TO / 2);
    const error = await failure(2, 'nan-key', at);
    expect(error).toBeInstanceOf(UserFunctionError);
    expect(error).toMatchObject({ operatorUid: 'latest', subtaskIndex: 0 });
    expect((error as UserFunctionError).originalMessage).toMatch(/unsupported key NaN/);
  });
});

describe('windows and timers across a checkpoint and a restore', () => {
  it('restores window contents and their timers at another parallelism: every window is emitted once with the full aggregate', async () => {
    const t = fresh('windows');
    // Clicks 0..19 999 span 200 s of event time: 4 or 5 one-minute windows per user. The
    // checkpoint at click 7 000 has open windows (contents in keyed state, ends in timers); the
    // run crashes 3 000 clicks later and is restored at another parallelism, the input replayed.
    const params = { output: t.output, sourceParallelism: 1 };
    const first = await testJob(checkpointedWindows, { jobId: t.jobId, parallelism: 2, params });
    await first.input<number>('clicks').pushAll(range(0, 6_999));
    const cp = await first.checkpoint();
    const closedAtCheckpoint = first.output('windows').committed.length;
    await first.input<number>('clicks').pushAll(range(7_000, 9_999));
    await first.crash();
    const resumed = await testJob(checkpointedWindows, { jobId: t.jobId, parallelism: 3, restoreFrom: cp, params });
    await resumed.input<number>('clicks').pushAll(range(10_000, 19_999));
    const result = await resumed.finish();
    expect(result.status).toBe('FINISHED');
    // The committed windows hold every click exactly once: what one uninterrupted run over 0..19 999 emits.
    const windows = committedLines(t.output);
    expect(windows).toEqual(expectedWindows(20_000));
    // Some windows had closed at the checkpoint and many were still open.
    expect(closedAtCheckpoint).toBeGreaterThan(0);
    expect(closedAtCheckpoint).toBeLessThan(windows.length);
    expect(resumed.output('windows').committed).toHaveLength(windows.length);
  });
});

describe('incremental chains', () => {
  it('grow by one delta per checkpoint and are materialized into a new base after maxDeltas', async () => {
    const t = fresh('chains');
    const driver = await testJob(checkpointedSum, { jobId: t.jobId, parallelism: 1, checkpointStorage: t.storage, params: { output: t.output, maxDeltas: 2 } });
    // Six checkpoints, each after 500 more numbers: every key's sum changes between two of them.
    for (let round = 0; round < 6; round++) {
      await driver.input<number>('numbers').pushAll(range(round * 500 + 1, round * 500 + 500));
      expect((await driver.checkpoint()).id).toBe(round + 1);
    }
    await driver.close();
    const storage = openStorage(`${t.storage}/${t.jobId}`);
    const chains = [];
    for (const id of [4, 5, 6]) {
      const meta = await readMetadata(storage, id);
      const sum = meta.operators.find((o) => o.uid === 'sum')!;
      chains.push(sum.keyed[0].chain.map((c) => c.kind));
    }
    // Checkpoints 1..6 with at most 2 deltas per base: base | base,delta | base,delta,delta | base | ...
    expect(chains).toEqual([['base'], ['base', 'delta'], ['base', 'delta', 'delta']]);
    const bases = new Set((await storage.list('shared/')).filter((k) => k.includes('-base-')));
    expect(bases.size).toBeGreaterThanOrEqual(1);
    await storage.close();
  });
});
