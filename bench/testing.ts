// Testing suite (`npm run bench -- testing`): what one small job test costs in baton/testing's testJob
// (in this thread) at parallelism 1 and 2, side by side with the same job run by runJob on worker
// threads — the way the project's tests ran jobs before the kit. The target (issue 13): a typical
// small job test in testJob takes ≤ 50 ms including set-up.
//
// The job (bench/jobs/word-count.ts): 100 lines (250 words) → split → keyBy word → count in
// ValueState (LMDB) → collect sink; checkpointing enabled.
//
// What one sample includes:
// - testjob_p1 / testjob_p2, one test as a user writes it: testJob(job) — option parsing, the
//   graph built once for the coordinator and once per subtask, a fresh LMDB environment per keyed
//   subtask (in a new temp directory), the coordinator and its in-thread worker sessions started,
//   until RUNNING — then push the 100 lines (and settle), take a checkpoint (barriers, state
//   snapshot, chunk and _metadata files written to the process's checkpoint directory, sinks
//   committed), read and check the committed output, close (cancel, LMDB closed).
// - threads_p1 / threads_p2: runJob(module URL) — job module resolved (its bundle cached after the
//   first run), a worker-thread pool started and the job module loaded in every thread, graph, LMDB,
//   RUNNING — the 100 lines processed, end of input, final checkpoint to a temp directory,
//   FINISHED, threads gone, collected output checked.
// Excluded from both: loading baton's own modules into this process and the first runs (warm-up
// iterations, not sampled: JIT, OS file cache, the job bundle cache), and a test runner's own cost
// (vitest transforming the test file). The `phases` of testJob split its mean into set-up, push,
// checkpoint and close, measured inside the same samples.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { runJob } from '../src/index.ts';
import { testJob } from '../src/testing/index.ts';
import wordCount, { expectedCounts, lineOf } from './jobs/word-count.ts';
import type { SuiteOptions } from './suite.ts';

const JOB_URL = new URL('./jobs/word-count.ts', import.meta.url);
const RESULTS_DIR = new URL('./results/', import.meta.url);
const RESULTS_FILE = new URL('./testing.json', RESULTS_DIR);
const LINES = 100;
const TARGET_MS = 50;

type Phase = 'setup' | 'push' | 'checkpoint' | 'read_close';

/** Every word's last count must be its total: nothing lost or counted twice. */
function check(task: string, pairs: ReadonlyArray<readonly [string, number]>, expected: ReadonlyMap<string, number>): void {
  const final = new Map<string, number>();
  for (const [w, n] of pairs) final.set(w, Math.max(final.get(w) ?? 0, n));
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  if (pairs.length !== total || final.size !== expected.size || [...expected].some(([w, n]) => final.get(w) !== n)) {
    throw new Error(`${task}: wrong output (${pairs.length} records, ${final.size} words; expected ${total} and ${expected.size})`);
  }
}

/** One testJob test: set-up, push, checkpoint, read the committed output, close; each phase timed. */
async function testJobOnce(task: string, parallelism: number, lines: readonly string[], expected: ReadonlyMap<string, number>): Promise<Record<Phase, number>> {
  const t0 = performance.now();
  const driver = await testJob(wordCount, { parallelism });
  const t1 = performance.now();
  await driver.input<string>('lines').pushAll(lines);
  const t2 = performance.now();
  await driver.checkpoint();
  const t3 = performance.now();
  check(task, driver.output<[string, number]>('out').committed, expected);
  await driver.close();
  const t4 = performance.now();
  return { setup: t1 - t0, push: t2 - t1, checkpoint: t3 - t2, read_close: t4 - t3 };
}

/** The same job on worker threads: runJob to FINISHED (its final checkpoint commits the output). */
async function threadsOnce(task: string, parallelism: number, storage: string, expected: ReadonlyMap<string, number>): Promise<void> {
  const job = await runJob(JOB_URL, { parallelism, checkpointStorage: storage, params: { lines: LINES } });
  const result = await job.done;
  if (result.status !== 'FINISHED') throw new Error(`${task}: job ended ${result.status}`);
  if (job.liveWorkerThreads() !== 0) throw new Error(`${task}: ${job.liveWorkerThreads()} worker threads left`);
  check(task, (result.collected.out ?? []) as Array<[string, number]>, expected);
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of sorted samples. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface Row {
  task: string;
  runtime: 'testJob' | 'worker threads';
  parallelism: number;
  samples: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  min_ms: number;
  max_ms: number;
}

function rowOf(task: Task, runtime: Row['runtime'], parallelism: number): Row {
  const result = task.result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`task ${task.name} ended in state '${result.state}'`);
  const samples = [...(result.latency.samples ?? [])].sort((a, b) => a - b);
  return {
    task: task.name,
    runtime,
    parallelism,
    samples: samples.length,
    mean_ms: round(result.latency.mean),
    p50_ms: round(result.latency.p50),
    p95_ms: round(percentile(samples, 95)),
    min_ms: round(result.latency.min),
    max_ms: round(result.latency.max),
  };
}

export async function run(options: SuiteOptions): Promise<void> {
  const iterations = options.quick ? 5 : 30;
  const warmupIterations = options.quick ? 2 : 3;
  const lines = Array.from({ length: LINES }, (_, i) => lineOf(i));
  const expected = expectedCounts(LINES);
  const scratch = mkdtempSync(join(os.tmpdir(), 'baton-bench-testing-'));
  const storage = pathToFileURL(join(scratch, 'checkpoints')).href;
  const phases: Record<string, Array<Record<Phase, number>>> = { testjob_p1: [], testjob_p2: [] };
  const bench = new Bench({ name: 'testing', iterations, time: 0, warmup: true, warmupIterations, warmupTime: 0, throws: true, retainSamples: true });
  for (const parallelism of [1, 2]) {
    const name = `testjob_p${parallelism}`;
    bench.add(name, async () => {
      phases[name].push(await testJobOnce(name, parallelism, lines, expected));
    });
  }
  for (const parallelism of [1, 2]) {
    const name = `threads_p${parallelism}`;
    bench.add(name, () => threadsOnce(name, parallelism, storage, expected));
  }
  console.log(`running tinybench: ${iterations} iterations (+${warmupIterations} warm-up) per task, ${LINES} lines (${[...expected.values()].reduce((a, b) => a + b, 0)} words) per test...`);
  try {
    await bench.run();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const rows = bench.tasks.map((task) => {
    const parallelism = Number(task.name.slice(-1));
    return rowOf(task, task.name.startsWith('testjob') ? 'testJob' : 'worker threads', parallelism);
  });
  console.table(rows);
  const byName = new Map(rows.map((r) => [r.task, r]));
  const ratios: Record<string, { mean: number; p50: number }> = {};
  for (const p of [1, 2]) {
    const threads = byName.get(`threads_p${p}`)!;
    const kit = byName.get(`testjob_p${p}`)!;
    ratios[`threads_p${p}/testjob_p${p}`] = { mean: round(threads.mean_ms / kit.mean_ms), p50: round(threads.p50_ms / kit.p50_ms) };
  }
  console.table(ratios);
  // Phases of the measured (not warm-up) samples.
  const phaseMeans: Record<string, Record<Phase, number>> = {};
  for (const [name, all] of Object.entries(phases)) {
    const measured = all.slice(-iterations);
    const mean = (phase: Phase) => round(measured.reduce((a, s) => a + s[phase], 0) / measured.length);
    phaseMeans[name] = { setup: mean('setup'), push: mean('push'), checkpoint: mean('checkpoint'), read_close: mean('read_close') };
  }
  console.table(phaseMeans);
  const target = Object.fromEntries([1, 2].map((p) => [`testjob_p${p}`, { mean_ms: byName.get(`testjob_p${p}`)!.mean_ms, met: byName.get(`testjob_p${p}`)!.mean_ms <= TARGET_MS }]));
  console.table(target);

  const report = {
    suite: 'testing',
    quick: options.quick,
    setup: `one small job test (${LINES} lines, keyed word count, LMDB state): testJob push + checkpoint + read output + close, vs runJob on worker threads to FINISHED`,
    measured:
      'testjob_*: testJob() set-up (graph, LMDB per keyed subtask, coordinator and in-thread sessions, until RUNNING) + push and settle + checkpoint (snapshot, files, sink commit) + read committed output + close. threads_*: runJob (cached job bundle, thread pool, module load per thread, LMDB) + processing + final checkpoint + FINISHED. Excluded: loading baton into the process, warm-up runs, a test runner\'s own overhead.',
    target: { per_test_ms_at_most: TARGET_MS, ...target },
    rows,
    ratios,
    testjob_phase_means_ms: phaseMeans,
    iterations,
    warmup_iterations: warmupIterations,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map((x) => round(x, 2)) },
    date: new Date().toISOString(),
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${fileURLToPath(RESULTS_FILE)}`);
}
