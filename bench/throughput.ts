// Throughput suite: keyed-count records/s for baton (p1, p2) vs plain loop, Node streams and a hand-written thread pair.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { runNodeStreams } from './references/node-streams.ts';
import { runPlainLoop } from './references/plain-loop.ts';
import { ThreadPair } from './references/thread-pair.ts';
import { runJob } from '../src/index.ts';
import type { SuiteOptions } from './suite.ts';
import { assertChecksum, DEFAULT_N, expectedChecksum, QUICK_N } from './workload.ts';

const TASKS = ['plain_loop', 'node_streams', 'thread_pair', 'baton_p1', 'baton_p2'] as const;
type TaskName = (typeof TASKS)[number];

/** The plain loop is ~10x faster than everything else; give it more records so its samples are not tiny. */
const PLAIN_LOOP_FACTOR = 4;

const RATIOS: ReadonlyArray<readonly [TaskName, TaskName]> = [
  ['baton_p2', 'node_streams'],
  ['baton_p2', 'thread_pair'],
  ['baton_p1', 'node_streams'],
  ['baton_p1', 'thread_pair'],
  ['thread_pair', 'node_streams'],
];

const JOB_URL = new URL('./jobs/keyed-count.ts', import.meta.url);
const RESULTS_DIR = new URL('./results/', import.meta.url);
const RESULTS_FILE = new URL('./throughput.json', RESULTS_DIR);

/**
 * Runs the keyed-count job once and checks its checksum. Returns the processing time (RUNNING →
 * FINISHED, from the job's own status events): thread start-up and module loading are excluded,
 * as they are for the thread pair, whose threads start before timing begins.
 */
async function runBaton(task: string, parallelism: number, n: number, expected: number): Promise<{ runningMs: number; totalMs: number }> {
  const started = performance.now();
  const job = await runJob(JOB_URL, { parallelism, jobId: 'bench-throughput', params: { n }, stateBackend: 'heap' });
  const result = await job.done;
  const totalMs = performance.now() - started;
  if (result.status !== 'FINISHED') throw new Error(`${task}: job ended ${result.status}`);
  const sums = (result.collected.checksum ?? []) as number[];
  assertChecksum(task, n, sums.reduce((a, b) => a + b, 0), expected);
  const at = (status: string) => result.statusHistory.find((e) => e.status === status)?.at ?? Number.NaN;
  return { runningMs: at('FINISHED') - at('RUNNING'), totalMs };
}

// --- reporting ---

interface TaskStats {
  n: number;
  meanMs: number;
  medianMs: number;
  minMs: number;
  rmePercent: number;
  samples: number;
  /** n / mean latency: the headline number. */
  recordsPerS: number;
  /** n / median latency: robust to the occasional slow sample (e.g. both pipeline threads scheduled on one CPU). */
  recordsPerSMedian: number;
}

function statsOf(task: Task, n: number): TaskStats | Error {
  const result = task.result;
  if (result.state === 'errored') return result.error;
  if (result.state !== 'completed') return new Error(`task ${task.name} ended in state '${result.state}'`);
  const { mean: meanMs, p50: medianMs, min: minMs } = result.latency;
  return {
    n,
    meanMs,
    medianMs,
    minMs,
    rmePercent: result.latency.rme,
    samples: result.latency.samplesCount,
    recordsPerS: n / (meanMs / 1000),
    recordsPerSMedian: n / (medianMs / 1000),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function fmtRate(value: number | null): string {
  return value === null ? 'skipped' : `${(value / 1e6).toFixed(2)} M/s`;
}

// --- suite ---

export async function run(options: SuiteOptions): Promise<void> {
  const n = options.quick ? QUICK_N : DEFAULT_N;
  const plainN = n * PLAIN_LOOP_FACTOR;
  const iterations = options.quick ? 5 : 8;
  const warmupIterations = options.quick ? 4 : 2;

  console.log(`computing expected checksums (n=${n}, plain loop n=${plainN})...`);
  const expected = expectedChecksum(n);
  const expectedPlain = expectedChecksum(plainN);

  const batonRuns: Record<string, Array<{ runningMs: number; totalMs: number }>> = { baton_p1: [], baton_p2: [] };

  const taskN: Partial<Record<TaskName, number>> = {};
  const bench = new Bench({
    name: 'throughput',
    iterations,
    time: 0,
    warmup: true,
    warmupIterations,
    warmupTime: 0,
    throws: false,
  });

  taskN.plain_loop = plainN;
  bench.add('plain_loop', () => {
    assertChecksum('plain_loop', plainN, runPlainLoop(plainN), expectedPlain);
  });

  taskN.node_streams = n;
  bench.add('node_streams', async () => {
    assertChecksum('node_streams', n, await runNodeStreams(n), expected);
  });

  const verifiedBy: Partial<Record<TaskName, string>> = {
    plain_loop: 'checksum',
    node_streams: 'checksum',
    thread_pair: 'checksum',
  };
  // Workers are spawned and loaded here, outside the timed section, and reused by every iteration.
  const pair = await ThreadPair.start();
  try {
    taskN.thread_pair = n;
    bench.add('thread_pair', async () => {
      assertChecksum('thread_pair', n, await pair.run(n), expected);
    });

    for (const parallelism of [1, 2] as const) {
      const name: TaskName = parallelism === 1 ? 'baton_p1' : 'baton_p2';
      taskN[name] = n;
      verifiedBy[name] = 'checksum';
      bench.add(name, async () => {
        batonRuns[name].push(await runBaton(name, parallelism, n, expected));
      });
    }

    console.log(`running tinybench: ${iterations} iterations (+${warmupIterations} warmup) per task...`);
    await bench.run();
  } finally {
    await pair.close();
  }

  console.table(bench.table());

  const stats: Partial<Record<TaskName, TaskStats>> = {};
  const errors: string[] = [];
  for (const task of bench.tasks) {
    const name = task.name as TaskName;
    const s = statsOf(task, taskN[name] ?? n);
    if (s instanceof Error) errors.push(`${name}: ${s.message}`);
    else stats[name] = s;
  }

  // For baton the tinybench sample is the whole job, start-up included; the headline figure is
  // the processing rate (RUNNING → FINISHED), comparable with the thread pair's pre-started threads.
  const batonProcessing: Record<string, number | null> = {};
  const batonEndToEnd: Record<string, number | null> = {};
  const batonStartupMs: Record<string, number | null> = {};
  for (const [name, runs] of Object.entries(batonRuns)) {
    const measured = runs.slice(-iterations);
    const running = measured.reduce((a, r) => a + r.runningMs, 0) / measured.length;
    const total = measured.reduce((a, r) => a + r.totalMs, 0) / measured.length;
    batonProcessing[name] = measured.length > 0 ? Math.round(n / (running / 1000)) : null;
    batonEndToEnd[name] = measured.length > 0 ? Math.round(n / (total / 1000)) : null;
    batonStartupMs[name] = measured.length > 0 ? round(total - running, 1) : null;
  }
  const recordsPerS = Object.fromEntries(
    TASKS.map((t) => [t, t in batonProcessing ? batonProcessing[t] : stats[t] ? Math.round(stats[t].recordsPerS) : null]),
  ) as Record<TaskName, number | null>;
  const ratios: Record<string, number | null> = {};
  for (const [a, b] of RATIOS) {
    const ra = recordsPerS[a];
    const rb = recordsPerS[b];
    ratios[`${a}/${b}`] = ra !== null && rb !== null ? round(ra / rb, 3) : null;
  }

  console.table(
    Object.fromEntries(
      TASKS.map((t) => {
        const s = stats[t];
        return [
          t,
          s
            ? {
                records: s.n,
                'mean ms': round(s.meanMs, 1),
                'median ms': round(s.medianMs, 1),
                'min ms': round(s.minMs, 1),
                'rme %': round(s.rmePercent, 1),
                samples: s.samples,
                'records/s (mean)': fmtRate(s.recordsPerS),
                'records/s (median)': fmtRate(s.recordsPerSMedian),
              }
            : { records: taskN[t] ?? null, samples: 0, 'records/s (mean)': 'skipped' },
        ];
      }),
    ),
  );
  console.table(Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, { ratio: v ?? 'n/a' }])));

  if (errors.length > 0) {
    for (const e of errors) console.error(`THROUGHPUT BENCH FAILED: ${e}`);
    throw new Error(`throughput bench: ${errors.length} task(s) failed; ${fileURLToPath(RESULTS_FILE)} not written`);
  }

  console.table(
    Object.fromEntries(
      Object.keys(batonRuns).map((t) => [
        t,
        { 'processing records/s': fmtRate(batonProcessing[t]), 'end-to-end records/s': fmtRate(batonEndToEnd[t]), 'start-up ms': batonStartupMs[t] },
      ]),
    ),
  );

  const cpus = os.cpus();
  const report = {
    suite: 'throughput',
    quick: options.quick,
    n,
    n_per_task: taskN,
    records_per_s: recordsPerS,
    ratios,
    baton: {
      note: 'records_per_s.baton_* is the processing rate (RUNNING to FINISHED); end_to_end includes thread start-up and module loading',
      end_to_end_records_per_s: batonEndToEnd,
      startup_ms: batonStartupMs,
    },
    records_per_s_median: Object.fromEntries(
      TASKS.map((t) => [t, stats[t] ? Math.round(stats[t].recordsPerSMedian) : null]),
    ),
    mean_ms: Object.fromEntries(TASKS.map((t) => [t, stats[t] ? round(stats[t].meanMs, 3) : null])),
    median_ms: Object.fromEntries(TASKS.map((t) => [t, stats[t] ? round(stats[t].medianMs, 3) : null])),
    rme_percent: Object.fromEntries(TASKS.map((t) => [t, stats[t] ? round(stats[t].rmePercent, 2) : null])),
    iterations,
    warmup_iterations: warmupIterations,
    checksum: { [n]: expected, [plainN]: expectedPlain },
    verified_by: verifiedBy,
    machine: {
      cpus: cpus.length,
      model: cpus[0]?.model ?? 'unknown',
      node: process.version,
      platform: process.platform,
      arch: process.arch,
    },
    date: new Date().toISOString(),
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${fileURLToPath(RESULTS_FILE)}`);
}
