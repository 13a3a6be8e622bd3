// Throughput suite: keyed-count records/s for baton (p1, p2) vs plain loop, Node streams and a hand-written thread pair.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { runNodeStreams } from './references/node-streams.ts';
import { runPlainLoop } from './references/plain-loop.ts';
import { ThreadPair } from './references/thread-pair.ts';
import type { SuiteOptions } from './suite.ts';
import { assertChecksum, DEFAULT_N, expectedChecksum, N_ENV_VAR, QUICK_N } from './workload.ts';

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

const SRC_INDEX = new URL('../src/index.ts', import.meta.url);
const JOB_URL = new URL('./jobs/keyed-count.ts', import.meta.url);
const RESULTS_DIR = new URL('./results/', import.meta.url);
const RESULTS_FILE = new URL('./throughput.json', RESULTS_DIR);

// --- baton engine (optional until the lead wires src/index.ts and bench/jobs/keyed-count.ts) ---

interface BatonJob {
  done: Promise<unknown>;
}
interface BatonRunOptions {
  parallelism: number;
  jobId: string;
  /** Read by bench/jobs/keyed-count.ts as env.params.n. */
  params: { n: number };
}
type RunJob = (job: URL, options: BatonRunOptions) => Promise<BatonJob>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Load runJob from ../src/index.ts, or explain why the baton tasks are skipped. */
async function loadRunJob(): Promise<{ runJob: RunJob } | { skip: string }> {
  if (!existsSync(SRC_INDEX)) return { skip: `${fileURLToPath(SRC_INDEX)} does not exist yet` };
  if (!existsSync(JOB_URL)) return { skip: `${fileURLToPath(JOB_URL)} does not exist yet` };
  let mod: unknown;
  try {
    // Non-literal specifier: keeps tsc happy while src/index.ts is still being written.
    mod = await import(SRC_INDEX.href);
  } catch (err) {
    return { skip: `importing src/index.ts failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isRecord(mod) || typeof mod.runJob !== 'function') return { skip: 'src/index.ts does not export runJob' };
  return { runJob: mod.runJob as RunJob };
}

/**
 * Checksum reported by a finished baton job, if any: `result.checksum`, or the sum of numeric `checksum` fields of
 * the entries of `result.operators` (per-partition checksums add up, see workload.checksumTerm).
 */
function reportedChecksum(result: Record<string, unknown>, operators: unknown[]): number | undefined {
  if (typeof result.checksum === 'number') return result.checksum;
  let found = false;
  let sum = 0;
  for (const entry of operators) {
    if (isRecord(entry) && typeof entry.checksum === 'number') {
      found = true;
      sum += entry.checksum;
    }
  }
  return found ? sum : undefined;
}

/**
 * Fail loudly unless the job finished and processed exactly n records. With a checksum in the result it must match
 * the references'; without one (Sinks.discard reports none) every operator of the 1:1 keyed-count pipeline must have
 * seen n records: sources n out, every other operator n in.
 */
function verifyBatonResult(task: string, result: unknown, n: number, expected: number): 'checksum' | 'record counts' {
  if (!isRecord(result) || !isRecord(result.operators)) {
    throw new Error(`${task}: job result has no 'operators' (got ${JSON.stringify(result)})`);
  }
  if (typeof result.status === 'string' && result.status !== 'FINISHED') {
    throw new Error(`${task}: job ended with status ${result.status}`);
  }
  const operators = Array.isArray(result.operators) ? result.operators : Object.values(result.operators);
  const checksum = reportedChecksum(result, operators);
  if (checksum !== undefined) {
    assertChecksum(task, n, checksum, expected);
    return 'checksum';
  }
  if (operators.length === 0) throw new Error(`${task}: job result lists no operators`);
  for (const op of operators) {
    if (!isRecord(op)) throw new Error(`${task}: malformed operator entry ${JSON.stringify(op)}`);
    const isSource = op.type === 'source';
    const seen = isSource ? op.recordsOut : op.recordsIn;
    if (seen !== n) {
      throw new Error(
        `RECORD COUNT MISMATCH in ${task}: operator '${String(op.uid)}' ${isSource ? 'emitted' : 'received'} ${String(seen)} records, expected ${n}`,
      );
    }
  }
  return 'record counts';
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

  const baton = await loadRunJob();
  if ('skip' in baton) console.log(`NOTE: skipping baton_p1/baton_p2: ${baton.skip}`);
  // Job modules read the record count from the environment (workload.benchRecordCount()).
  process.env[N_ENV_VAR] = String(n);

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

    if ('runJob' in baton) {
      const { runJob } = baton;
      for (const parallelism of [1, 2] as const) {
        const name: TaskName = parallelism === 1 ? 'baton_p1' : 'baton_p2';
        taskN[name] = n;
        bench.add(name, async () => {
          const job = await runJob(JOB_URL, { parallelism, jobId: 'bench-throughput', params: { n } });
          verifiedBy[name] = verifyBatonResult(name, await job.done, n, expected);
        });
      }
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

  const recordsPerS = Object.fromEntries(TASKS.map((t) => [t, stats[t] ? Math.round(stats[t].recordsPerS) : null])) as Record<
    TaskName,
    number | null
  >;
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

  for (const t of ['baton_p1', 'baton_p2'] as const) {
    if (verifiedBy[t] === 'record counts') {
      console.log(`NOTE: ${t} reports no checksum (Sinks.discard); verified by per-operator record counts only`);
    }
  }

  const cpus = os.cpus();
  const report = {
    suite: 'throughput',
    quick: options.quick,
    n,
    n_per_task: taskN,
    records_per_s: recordsPerS,
    ratios,
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
    skipped: 'skip' in baton ? { baton_p1: baton.skip, baton_p2: baton.skip } : {},
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
