// Handover start-time suite: B starts at a random moment (early, late, after a fixed target would already have passed);
// downtime of `when-ready` against a fixed target picked the way a user picks one, on a directory and on S3, plus the
// rollback's downtime when B is stopped while it waits. Every run checks A's + B's committed output is exactly once.
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type CheckpointStats, type HandoverMetrics, type JobHandle, type RunJobOptions, runJob } from '../src/index.ts';
import { committedLines, expectedSumsPrefix } from '../test/e2e/checkpoint-helpers.ts';
import { runScenarioChild } from './legacy-openssl-child.ts';
import { type S3ServerProcess, startS3ServerProcess } from './s3-server-process.ts';
import type { SuiteOptions } from './suite.ts';

const JOB_URL = new URL('../test/e2e/jobs/checkpointed-sum.ts', import.meta.url);
const RESULTS_FILE = new URL('./results/handover.json', import.meta.url);
const CHILD_FLAG = '--handover-start-scenario';
/** How far ahead of A's newest completed checkpoint a user puts a fixed target (a guess of B's start-up). */
const AHEAD = 3;
const INTERVAL_MS = 200;

type StartCase = 'early' | 'late' | 'after-target';
type Mode = 'when-ready' | 'fixed';
type StorageKind = 'directory' | 's3';

interface RunRecord {
  readonly storage: StorageKind;
  readonly mode: Mode;
  readonly start: StartCase;
  /** What B waited for before it started, after the moment the target was picked. */
  readonly startDelay: string;
  readonly target: number | 'when-ready';
  readonly outcome: 'took-over' | 'refused';
  readonly error?: string;
  readonly downtimeMs?: number;
  readonly takeoverCheckpoint?: number;
  /** B's stage 2 (inside the downtime) and, `when-ready`, A's checkpoints it passed over after announcing. */
  readonly stage2Ms?: number;
  readonly passedOver?: number;
  /** Where the downtime went (see Phases). */
  readonly phases?: Phases;
  readonly exactlyOnce: boolean;
}

/**
 * The downtime in parts, from A's last record (L) on: `stopCheckpoint` = L until A's stop checkpoint
 * completed (its `_metadata` written and the ownership check done: A's checkpoint stats), of
 * which `stopUploadMs` the slowest subtask's upload; `seen` = L until B read that `_metadata` (B
 * may read it before A's check is done); `noticed` = L until stage 2 started (later than `seen`
 * when B was still applying a checkpoint with a new base); `stage2Ms`; `start` = stage 2's end
 * until B's first record.
 */
interface Phases {
  readonly stopCheckpoint: number | undefined;
  readonly stopUploadMs: number | undefined;
  /** L until B read the stop checkpoint's `_metadata`. */
  readonly seen: number | undefined;
  readonly noticed: number | undefined;
  readonly stage2Ms: number | undefined;
  readonly start: number | undefined;
}

interface RollbackRecord {
  readonly storage: StorageKind;
  readonly downtimeMs: number | undefined;
  readonly exactlyOnce: boolean;
}

interface Place {
  readonly storage: StorageKind;
  readonly options: (jobId: string) => Pick<RunJobOptions, 'checkpointStorage' | 's3'>;
}

const completedCheckpoint = (job: JobHandle, atLeast: number): Promise<number> =>
  new Promise((resolve) => {
    const on = (c: { id: number; status: string }) => {
      if (c.status !== 'COMPLETED' || c.id < atLeast) return;
      job.off('checkpoint', on);
      resolve(c.id);
    };
    job.on('checkpoint', on);
  });

function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A's + B's committed lines are one uninterrupted run's prefix, each line once. */
function exactlyOnce(dir: string): boolean {
  const lines = [...committedLines(join(dir, 'out-a')), ...committedLines(join(dir, 'out-b'))].sort();
  const expected = expectedSumsPrefix(lines);
  return lines.length === expected.length && lines.every((line, i) => line === expected[i]);
}

async function oneHandover(place: Place, root: string, index: number, mode: Mode, start: StartCase): Promise<RunRecord> {
  const jobId = `start-${index}`;
  const dir = join(root, jobId);
  const params = { to: 400_000, rate: 4_000, intervalMs: INTERVAL_MS, retain: 3 };
  const a = await runJob(JOB_URL, { jobId, parallelism: 2, ...place.options(jobId), params: { ...params, output: join(dir, 'out-a') } });
  const aCheckpoints: CheckpointStats[] = [];
  a.on('checkpoint', (stats: CheckpointStats) => aCheckpoints.push(stats));
  // The moment the deployment is decided: early = while A starts; late = after A's k-th checkpoint.
  const seen = start === 'early' ? 0 : await completedCheckpoint(a, randomInt(2, 7));
  const fixedTarget = seen + AHEAD;
  let startDelay = 'none';
  if (start === 'late') {
    const ms = randomInt(0, 1_000);
    startDelay = `${ms} ms`;
    await new Promise((resolve) => setTimeout(resolve, ms));
  } else if (start === 'after-target') {
    // B's start-up took longer than the guess: A completed the fixed target (and one more) first.
    await completedCheckpoint(a, fixedTarget + 1);
    startDelay = `A completed chk-${fixedTarget + 1}`;
  }
  const target = mode === 'when-ready' ? ('when-ready' as const) : fixedTarget;
  let error: string | undefined;
  let downtimeMs: number | undefined;
  let takeoverCheckpoint: number | undefined;
  let stage2Ms: number | undefined;
  let passedOver: number | undefined;
  let phases: Phases | undefined;
  try {
    const b = await runJob(JOB_URL, {
      jobId,
      parallelism: 2,
      ...place.options(jobId),
      params: { ...params, output: join(dir, 'out-b') },
      handover: { targetCheckpoint: target, timeoutMs: 60_000, pollMs: 50 },
    });
    let stage2DoneAt: number | undefined;
    b.on('handover', (e: { phase: string; at: number }) => {
      if (e.phase === 'stage2-done') stage2DoneAt = e.at;
    });
    const firstCheckpoint = new Promise<void>((resolve) => b.on('status', (e: { status: string }) => e.status === 'RUNNING' && void completedCheckpoint(b, 0).then(() => resolve())));
    const ended = b.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    const outcome = await Promise.race([firstCheckpoint.then(() => 'running' as const), ended.then((e) => e)]);
    if (outcome === 'running') {
      const result = await b.stop({ mode: 'suspend' });
      downtimeMs = result.handover?.downtimeMs;
      takeoverCheckpoint = result.handover?.targetCheckpoint;
      stage2Ms = result.handover?.stage2Ms;
      passedOver = result.handover?.passedOverCheckpoints;
      phases = phasesOf(result.handover, aCheckpoints, stage2DoneAt);
    } else {
      error = outcome === undefined ? 'B ended before it ran' : `${(outcome as Error).name}: ${(outcome as Error).message}`;
    }
  } catch (e) {
    error = `${(e as Error).name}: ${(e as Error).message}`;
  }
  // A ends by itself once B's first checkpoint completed; a refused B leaves A running.
  if (a.status === 'RUNNING') await a.stop({ mode: 'suspend' });
  else await a.done.catch(() => undefined);
  const record: RunRecord = {
    storage: place.storage,
    mode,
    start,
    startDelay,
    target,
    outcome: error === undefined ? 'took-over' : 'refused',
    ...(error === undefined ? {} : { error }),
    ...(downtimeMs === undefined ? {} : { downtimeMs }),
    ...(takeoverCheckpoint === undefined ? {} : { takeoverCheckpoint }),
    ...(stage2Ms === undefined ? {} : { stage2Ms }),
    ...(passedOver === undefined ? {} : { passedOver }),
    ...(phases === undefined ? {} : { phases }),
    exactlyOnce: exactlyOnce(dir),
  };
  rmSync(dir, { recursive: true, force: true });
  return record;
}

function phasesOf(handover: HandoverMetrics | undefined, aCheckpoints: readonly CheckpointStats[], stage2DoneAt: number | undefined): Phases | undefined {
  const last = handover?.lastRecordAt;
  if (!handover || last === undefined) return undefined;
  const stop = aCheckpoints.find((c) => c.id === handover.targetCheckpoint && c.status === 'COMPLETED');
  const found = stage2DoneAt === undefined ? undefined : stage2DoneAt - handover.stage2Ms;
  return {
    stopCheckpoint: stop === undefined ? undefined : stop.endedAt - last,
    stopUploadMs: stop === undefined || stop.tasks.length === 0 ? undefined : Math.max(...stop.tasks.map((t) => t.asyncMs)),
    seen: handover.takeoverSeenAt === undefined ? undefined : handover.takeoverSeenAt - last,
    noticed: found === undefined ? undefined : found - last,
    stage2Ms: handover.stage2Ms,
    start: stage2DoneAt === undefined || handover.firstRecordAt === undefined ? undefined : handover.firstRecordAt - stage2DoneAt,
  };
}

/** B stopped once A stands by after its stop checkpoint (before B's first checkpoint): A sees B's request withdrawn and resumes by itself. */
async function oneRollback(place: Place, root: string, index: number): Promise<RollbackRecord> {
  const jobId = `rollback-${index}`;
  const dir = join(root, jobId);
  const params = { to: 400_000, rate: 4_000, intervalMs: INTERVAL_MS, retain: 3 };
  const a = await runJob(JOB_URL, { jobId, parallelism: 2, ...place.options(jobId), params: { ...params, output: join(dir, 'out-a') } });
  await completedCheckpoint(a, 2);
  const b = await runJob(JOB_URL, { jobId, parallelism: 2, ...place.options(jobId), params: { ...params, output: join(dir, 'out-b') }, handover: { pollMs: 50 } });
  // Stopped once A stands by after its stop checkpoint: stopped earlier, A may see the request
  // withdrawn before it triggered that checkpoint, and then there is no rollback to measure.
  const onStandby = (h: { phase: string }) => {
    if (h.phase !== 'standby') return;
    a.off('handover', onStandby);
    void b.cancel();
  };
  a.on('handover', onStandby);
  const resumed = new Promise<void>((resolve) => a.on('handover', (e: { phase: string }) => e.phase === 'resumed' && resolve()));
  await b.done.catch(() => undefined);
  // A resumed (or its stop was withdrawn before the stop checkpoint): one more checkpoint of its own, then it stops.
  await Promise.race([resumed, completedCheckpoint(a, 0)]);
  await completedCheckpoint(a, 0);
  const result = await a.stop({ mode: 'suspend' });
  const record: RollbackRecord = { storage: place.storage, downtimeMs: result.rollbacks?.[0]?.downtimeMs, exactlyOnce: exactlyOnce(dir) };
  rmSync(dir, { recursive: true, force: true });
  return record;
}

function summarize(records: readonly RunRecord[]) {
  const groups: Record<string, unknown> = {};
  for (const storage of ['directory', 's3'] as const) {
    for (const mode of ['when-ready', 'fixed'] as const) {
      const runs = records.filter((r) => r.storage === storage && r.mode === mode);
      if (runs.length === 0) continue;
      const downtimes = runs.flatMap((r) => (r.downtimeMs === undefined ? [] : [r.downtimeMs]));
      groups[`${storage}/${mode}`] = {
        runs: runs.length,
        took_over: runs.filter((r) => r.outcome === 'took-over').length,
        refused: runs.filter((r) => r.outcome === 'refused').length,
        exactly_once: runs.filter((r) => r.exactlyOnce).length,
        downtime_ms: { p50: percentile(downtimes, 50), p95: percentile(downtimes, 95), max: downtimes.length ? Math.max(...downtimes) : undefined },
        // Medians of the parts (see Phases): where the downtime goes.
        phases_p50_ms: Object.fromEntries(
          (['stopCheckpoint', 'stopUploadMs', 'seen', 'noticed', 'stage2Ms', 'start'] as const).map((k) => [k, percentile(runs.flatMap((r) => (r.phases?.[k] === undefined ? [] : [r.phases[k]])), 50)]),
        ),
      };
    }
  }
  return groups;
}

async function scenario(quick: boolean): Promise<void> {
  const runsPerGroup = Number(process.env.BATON_BENCH_START_RUNS ?? (quick ? 3 : 10));
  const rollbacks = Number(process.env.BATON_BENCH_ROLLBACK_RUNS ?? (quick ? 2 : 5));
  // One storage only (`directory` or `s3`), to look at one side: the results file is then left as it is.
  const only = process.env.BATON_BENCH_START_STORAGE as StorageKind | undefined;
  if (only !== undefined && only !== 'directory' && only !== 's3') throw new Error(`BATON_BENCH_START_STORAGE must be directory or s3, not ${only}`);
  const root = mkdtempSync(join(os.tmpdir(), 'baton-bench-start-'));
  const loadAtStart = os.loadavg()[0];
  let s3: S3ServerProcess | undefined;
  const records: RunRecord[] = [];
  const rollbackRecords: RollbackRecord[] = [];
  try {
    // s3rver behind the conditional-write proxy, in a process of its own (as a store is).
    s3 = await startS3ServerProcess();
    const server = s3;
    const places: Place[] = [
      { storage: 'directory', options: () => ({ checkpointStorage: pathToFileURL(join(root, 'checkpoints')).href }) },
      {
        storage: 's3',
        options: () => ({ checkpointStorage: `s3://${server.bucket}/start`, s3: { endpoint: server.endpoint, region: server.region, credentials: server.credentials } }),
      },
    ];
    const cases: StartCase[] = ['early', 'late', 'after-target'];
    let index = 0;
    for (const place of places.filter((p) => only === undefined || p.storage === only)) {
      for (let i = 0; i < runsPerGroup; i++) {
        // The same start case for both modes in turn, so the two see the same spread of moments.
        const start = cases[i % cases.length];
        for (const mode of ['when-ready', 'fixed'] as const) {
          const record = await oneHandover(place, root, index++, mode, start);
          records.push(record);
          const p = record.phases;
          const parts = p ? `; A's stop checkpoint L+${p.stopCheckpoint} (upload ${p.stopUploadMs}), B read it L+${p.seen}, stage 2 from L+${p.noticed} for ${p.stage2Ms}, first record +${p.start}` : '';
          console.log(
            `${place.storage} ${mode.padEnd(10)} ${start.padEnd(12)} target ${String(record.target).padEnd(10)} ${record.outcome === 'took-over' ? `downtime ${record.downtimeMs} ms at chk-${record.takeoverCheckpoint}${record.passedOver ? ` (${record.passedOver} passed over)` : ''}${parts}` : `refused: ${record.error}`}; exactly once: ${record.exactlyOnce}; load ${os.loadavg()[0].toFixed(1)}`,
          );
        }
      }
      for (let i = 0; i < rollbacks; i++) {
        const record = await oneRollback(place, root, index++);
        rollbackRecords.push(record);
        console.log(`${place.storage} rollback: downtime ${record.downtimeMs} ms; exactly once: ${record.exactlyOnce}`);
      }
    }
  } finally {
    await s3?.close();
    rmSync(root, { recursive: true, force: true });
  }
  const rollbackDowntimes = (storage: StorageKind) => rollbackRecords.filter((r) => r.storage === storage).flatMap((r) => (r.downtimeMs === undefined ? [] : [r.downtimeMs]));
  const randomStart = {
    measured_at: new Date().toISOString(),
    machine: `${os.cpus().length} vCPU, load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
    store: 's3: s3rver behind the conditional-write proxy (test/support), in a child process',
    what: 'B starts early (with A), late (0-1000 ms after A completed a random checkpoint 2-6) or after a fixed target would have passed (after A completed target+1); fixed target = newest completed + 3 at the moment B is decided; downtime = B first record - A last record before the stop checkpoint (from the job result)',
    groups: summarize(records),
    rollback: Object.fromEntries(
      (['directory', 's3'] as const).map((storage) => {
        const d = rollbackDowntimes(storage);
        return [storage, { runs: d.length, p50: percentile(d, 50), max: d.length ? Math.max(...d) : undefined, exactly_once: rollbackRecords.filter((r) => r.storage === storage && r.exactlyOnce).length }];
      }),
    ),
    runs: records,
  };
  console.table(
    Object.fromEntries(
      Object.entries(randomStart.groups as Record<string, Record<string, unknown>>).map(([group, g]) => {
        const d = g.downtime_ms as Record<string, number | undefined>;
        const p = g.phases_p50_ms as Record<string, number | undefined>;
        return [
          group,
          {
            runs: g.runs,
            took_over: g.took_over,
            exactly_once: g.exactly_once,
            'downtime p50/p95/max': `${d.p50} / ${d.p95} / ${d.max}`,
            'p50 parts (L+): stop ckpt / B read it / stage 2 from / stage 2 ms / start': `${p.stopCheckpoint} / ${p.seen} / ${p.noticed} / ${p.stage2Ms} / ${p.start}`,
          },
        ];
      }),
    ),
  );
  console.table(randomStart.rollback);
  if (only !== undefined) {
    console.log(`${only} only (BATON_BENCH_START_STORAGE): results file not written`);
  } else {
    await writeResults(randomStart);
  }
  const bad = [...records, ...rollbackRecords].filter((r) => !r.exactlyOnce).length;
  if (bad > 0) throw new Error(`${bad} run(s) were not exactly once`);
}

async function writeResults(randomStart: object): Promise<void> {
  // Beside the naive-vs-handover figures of bench/handover.ts, in the same file.
  const file = fileURLToPath(RESULTS_FILE);
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, `${JSON.stringify({ ...previous, random_start: randomStart }, null, 2)}\n`);
  console.log(`wrote random_start to ${file}`);
}

/** s3rver's paged listings need Node's legacy OpenSSL provider: the scenario runs in a child process started with it. */
export async function run(options: SuiteOptions): Promise<void> {
  await runScenarioChild(import.meta.url, CHILD_FLAG, options.quick, 'the handover start-time scenario');
}

if (process.argv[2] === CHILD_FLAG && import.meta.url === pathToFileURL(process.argv[1]).href) {
  scenario(process.argv.includes('--quick')).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
