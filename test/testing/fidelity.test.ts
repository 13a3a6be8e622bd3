// Fidelity: the same job modules run in testJob (this thread) and by runJob on worker threads give
// identical output — keyed value/map/list state, event-time and processing-time timers, tumbling
// windows with bounded out-of-orderness, reduce over rebalanced channels, at parallelism 1, 2 and 3;
// file source and sink, the examples (reference data from a hook), aligned and unaligned
// checkpoints with a checkpoint then a restore. Each job's output is deterministic (see
// test/testing/jobs/fidelity.ts), so a difference is a difference between the runtimes, not a race.
// Both runs of a case go at the same time: the threaded one mostly waits on thread start-up.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/checkpoint/status/checkpoint-status.ts';
import { openStorage } from '../../src/checkpoint/storage/index.ts';
import { type JobResult, runJob, type RunJobOptions } from '../../src/index.ts';
import type { JobDefinition } from '../../src/runtime/types.ts';
import { type TestDriver, testJob, type TestJobOptions } from '../../src/testing/index.ts';
import clickstream from '../../examples/clickstream.ts';
import orders from '../../examples/orders.ts';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from '../e2e/checkpoint-helpers.ts';
import { sortedJson } from '../e2e/helpers.ts';
import checkpointedSum from '../e2e/jobs/checkpointed-sum.ts';
import { expectedWindows } from '../e2e/jobs/event-time-windows.ts';
import wordCount from '../e2e/jobs/word-count.ts';
import fidelity from './jobs/fidelity.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-fidelity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const url = (path: string) => new URL(path, import.meta.url);
const FIDELITY = url('./jobs/fidelity.ts');

/** A job module run to its end on worker threads; no thread may be left. */
async function onThreads(module: URL, options: RunJobOptions): Promise<JobResult> {
  const job = await runJob(module, options);
  const result = await job.done;
  expect(job.liveWorkerThreads()).toBe(0);
  return result;
}

/** The same job in testJob with its own (bounded) sources, run to its end. */
async function inTestJob(job: JobDefinition, options: TestJobOptions): Promise<{ driver: TestDriver; result: JobResult }> {
  const driver = await testJob(job, { ...options, inputs: [] });
  const result = await driver.finish();
  return { driver, result };
}

/** Both runtimes at once on a job of bounded sources: the threaded result and testJob's driver and result. */
async function both(module: URL, job: JobDefinition, options: { parallelism: number; params: Record<string, string | number> }) {
  const [threads, inThread] = await Promise.all([onThreads(module, options), inTestJob(job, options)]);
  expect(threads.status).toBe('FINISHED');
  expect(inThread.result.status).toBe('FINISHED');
  return { threads, ...inThread };
}

describe('bounded jobs: identical committed output in testJob and on worker threads', () => {
  for (const parallelism of [1, 2, 3]) {
    it(`keyed state, timers, a rebalanced reduce and tumbling windows (parallelism ${parallelism})`, async () => {
      const count = 2_000;
      const clicks = 6_000;
      const { threads, driver, result } = await both(FIDELITY, fidelity, { parallelism, params: { count, clicks } });
      const committed = <T>(uid: string) => driver.output<T>(uid).committed;
      // Keyed value, map and list state: one line per visit plus a summary per user (11 users)
      // from a processing-time timer that fires at the end of input in both runtimes.
      const state = committed<string>('state');
      expect(state).toHaveLength(count + 11);
      expect(state.filter((l) => l.includes(',end,'))).toHaveLength(11);
      expect([...state].sort()).toEqual([...(threads.collected.state as string[])].sort());
      // Event-time timers per user and second; a total per user from a processing-time timer.
      // 2 000 visits 37 ms apart: seconds 0..73.
      const timers = committed<string>('timers');
      expect(timers.filter((l) => l.includes(',total,'))).toHaveLength(11);
      expect(timers.some((l) => l.includes('second 73,'))).toBe(true);
      expect(timers.every((l) => !l.includes('watermark>=false'))).toBe(true);
      expect([...timers].sort()).toEqual([...(threads.collected.timers as string[])].sort());
      // A reader rebalanced to every subtask, filtered, keyed and reduced.
      const rebalance = committed<[string, number]>('rebalance');
      expect(rebalance.length).toBe(result.operators['no-blog'].recordsOut);
      expect(sortedJson(rebalance)).toEqual(sortedJson(threads.collected.rebalance));
      // Tumbling event-time windows over out-of-order clicks, bounded out-of-orderness.
      const windows = sortedJson(committed('windows'));
      expect(windows).toEqual(expectedWindows(clicks));
      expect(windows).toEqual(sortedJson(threads.collected.windows));
      // Every operator saw the same records in and out.
      expect(result.operators).toEqual(threads.operators);
    });
  }

  it('word count: file source splits, flatMap, reduce, collect and file sinks (parallelism 3)', async () => {
    const t = fresh('words');
    const input = join(root, 'words.txt');
    const words = ['stream', 'state', 'barrier', "don't", 'Key', 'window'];
    writeFileSync(input, `${Array.from({ length: 600 }, (_, i) => `${words[i % 6]} ${words[(i * 7) % 6]}, ${words[(i * 5) % 6]}`).join('\n')}\n`);
    const params = (output: string) => ({ input, output, splitBytes: 1_024 });
    const [threads, inThread] = await Promise.all([
      onThreads(url('../e2e/jobs/word-count.ts'), { parallelism: 3, params: params(join(t.dir, 'threads')) }),
      inTestJob(wordCount, { parallelism: 3, params: params(join(t.dir, 'test-job')) }),
    ]);
    const committed = inThread.driver.output<[string, number]>('collected').committed;
    expect(committed).toHaveLength(1_800);
    expect(sortedJson(committed)).toEqual(sortedJson(threads.collected.collected));
    // The real file sink wrote and committed the same lines in testJob.
    expect(committedLines(join(t.dir, 'test-job'))).toEqual(committedLines(join(t.dir, 'threads')));
    expect(committedLines(join(t.dir, 'test-job'))).toHaveLength(1_800);
  });

  it('examples/clickstream.ts: windows per user, a running count per page (parallelism 2)', async () => {
    const { threads, driver } = await both(url('../../examples/clickstream.ts'), clickstream, { parallelism: 2, params: { clicks: 20_000 } });
    const minutes = sortedJson(driver.output('minutes').committed);
    expect(minutes.length).toBeGreaterThan(100);
    expect(minutes).toEqual(sortedJson(threads.collected.minutes));
    // The page counts emit every 10 000th view: none at 20 000 clicks over 5 pages, in both
    // runtimes (keyed counts are compared line for line by the fidelity job's state pipeline).
    expect(driver.output('milestones').committed).toEqual([]);
    expect(threads.collected.milestones ?? []).toEqual([]);
  });

  it('examples/orders.ts: reference data loaded by a hook, spend per customer, file sink (parallelism 2)', async () => {
    const t = fresh('orders');
    const prices = new Int32Array(64).map((_, i) => 100 + i * 3);
    const priceFile = join(root, 'prices.bin');
    writeFileSync(priceFile, new Uint8Array(prices.buffer));
    const params = (output: string) => ({ priceList: pathToFileURL(priceFile).href, customers: 40, orders: 1_500, rate: 1_000_000, output });
    const [threads, inThread] = await Promise.all([
      onThreads(url('../../examples/orders.ts'), { parallelism: 2, params: params(join(t.dir, 'threads')) }),
      inTestJob(orders, { parallelism: 2, params: params(join(t.dir, 'test-job')) }),
    ]);
    expect(threads.status).toBe('FINISHED');
    const lines = committedLines(join(t.dir, 'test-job'));
    expect(lines).toHaveLength(1_500);
    expect(lines).toEqual(committedLines(join(t.dir, 'threads')));
    expect([...inThread.driver.output<string>('out').committed].sort()).toEqual(lines);
  });
});

describe('a checkpoint, then a restore: the same final committed output in both runtimes', () => {
  const TO = 4_000;
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  for (const [mode, restoredParallelism] of [
    ['aligned', 3],
    ['unaligned', 2],
  ] as const) {
    it(`${mode} checkpoints, restored at parallelism 2 -> ${restoredParallelism}`, async () => {
      // The per-key running sums depend on every earlier record of the key: a record lost or
      // repeated by the restore changes every later line of its key. (The unaligned threaded run is
      // also the end-to-end test of a stop at an unaligned checkpoint with in-flight data and a resume.)
      // Unaligned: a slow stage keeps the channels into it full, so checkpoints hold in-flight data.
      const slowMicros = mode === 'unaligned' ? 150 : 0;
      const threaded = async (): Promise<string[]> => {
        const t = fresh(`threads-${mode}`);
        // The input advances 500 numbers per checkpoint ended: it cannot run out before the
        // checkpoint the first run stops at, however busy the machine.
        const pacer = checkpointPacer(join(t.dir, 'paced'));
        const params = { output: t.output, to: TO, mode, pacedBy: pacer.dir, segment: 500, slowMicros };
        const common = { jobId: t.jobId, checkpointStorage: t.storage, batchSize: 64, params };
        const first = await runJob(url('../e2e/jobs/checkpointed-sum.ts'), { ...common, parallelism: 2 });
        first.on('checkpoint', pacer.ended);
        let inFlight = 0;
        await new Promise<void>((resolve, reject) => {
          first.on('checkpoint', (c) => {
            inFlight += c.channelStateBytes;
            // Unaligned: stop once a checkpoint held in-flight data, so the restore replays some.
            if (c.status === 'COMPLETED' && c.id >= 2 && (mode === 'aligned' || inFlight > 0)) resolve();
          });
          first.done.then(() => reject(new Error('the first run ended before the checkpoint it should stop at')), reject);
        });
        const stopped = await first.stop({ mode: 'suspend' });
        expect(stopped.status).toBe('SUSPENDED');
        if (mode === 'unaligned') {
          // The checkpoint stopped at persisted its channel state: every file it names is in storage.
          const storage = openStorage(`${t.storage}/${t.jobId}`);
          const meta = await readMetadata(storage, stopped.stoppedAtCheckpoint!);
          expect(meta.channelState?.length).toBeGreaterThan(0);
          for (const ref of meta.channelState ?? []) expect(await storage.exists(`chk-${meta.checkpointId}/${ref.file}`)).toBe(true);
          await storage.close();
        }
        const partial = committedLines(t.output);
        expect(partial.length).toBeLessThan(TO);
        const second = await runJob(url('../e2e/jobs/checkpointed-sum.ts'), { ...common, parallelism: restoredParallelism, restoreFrom: 'latest' });
        second.on('checkpoint', pacer.ended);
        const result = await second.done;
        expect(result.status).toBe('FINISHED');
        expect(result.restoredFrom).toBe(stopped.stoppedAtCheckpoint);
        expect(second.liveWorkerThreads()).toBe(0);
        return committedLines(t.output);
      };
      const inThread = async (): Promise<string[]> => {
        const t = fresh(`test-job-${mode}`);
        // No slow stage: testJob's checkpoints come after settle(), with nothing in flight anyway.
        const params = { output: t.output, to: TO, mode };
        const first = await testJob(checkpointedSum, { parallelism: 2, params });
        await first.input<number>('numbers').pushAll(range(1, 1_500));
        const cp = await first.checkpoint();
        await first.input<number>('numbers').pushAll(range(1_501, 2_250));
        expect(first.output('out').uncommitted).toHaveLength(750);
        await first.crash();
        const second = await testJob(checkpointedSum, { parallelism: restoredParallelism, restoreFrom: cp, params });
        await second.input<number>('numbers').pushAll(range(2_251, TO));
        expect((await second.finish()).status).toBe('FINISHED');
        // The real file sink's committed files agree with the observed commits.
        const lines = committedLines(t.output);
        expect([...second.output<string>('out').committed].sort()).toEqual(lines);
        return lines;
      };
      const [threads, testJobLines] = await Promise.all([threaded(), inThread()]);
      expect(testJobLines).toEqual(expectedSums(TO));
      expect(testJobLines).toEqual(threads);
    });
  }
});
