// Backpressure suite: checkpoint duration and bytes persisted, aligned vs unaligned vs alignment timeout vs continuous
// spilling with a throttled stage; and what continuous spilling costs in throughput without backpressure.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runJob } from '../src/index.ts';
import type { SuiteOptions } from './suite.ts';

const JOB_URL = new URL('../test/e2e/jobs/checkpointed-sum.ts', import.meta.url);
const RESULTS_DIR = new URL('./results/', import.meta.url);
const RESULTS_FILE = new URL('./backpressure.json', RESULTS_DIR);

type Mode = 'aligned' | 'unaligned' | 'aligned_timeout' | 'continuous_spill';
const MODES: readonly Mode[] = ['aligned', 'unaligned', 'aligned_timeout', 'continuous_spill'];

interface ModeFigures {
  checkpoints: number;
  meanMs: number;
  maxMs: number;
  persistedBytes: number;
  channelStateBytes: number;
  spilledBytes: number;
  unalignedTasks: number;
}

function modeParams(mode: Mode): Record<string, string | number> {
  const params: Record<string, string | number> = { mode: mode === 'unaligned' || mode === 'continuous_spill' ? 'unaligned' : 'aligned' };
  if (mode === 'aligned_timeout') params.alignedTimeoutMs = 20;
  if (mode === 'continuous_spill') params.spill = 'continuous';
  return params;
}

/** One run: an endless rate-limited source, a stage 4× slower than it, checkpoints every 100 ms, stopped after `count`. */
async function measure(mode: Mode, count: number, scratch: string): Promise<ModeFigures> {
  const params: Record<string, string | number> = {
    output: join(scratch, `out-${mode}`),
    to: 100_000_000,
    rate: 8_000,
    slowMicros: 500,
    intervalMs: 100,
    ...modeParams(mode),
  };
  const job = await runJob(JOB_URL, {
    jobId: `backpressure-${mode}`,
    parallelism: 2,
    checkpointStorage: pathToFileURL(join(scratch, 'checkpoints')).href,
    stopAfterCheckpoint: count,
    params,
  });
  const result = await job.done;
  // The first checkpoint is taken before queues fill: measure the rest.
  const measured = result.checkpoints.filter((c) => c.status === 'COMPLETED' && c.id > 1);
  const sum = (f: (c: (typeof measured)[number]) => number) => measured.reduce((a, c) => a + f(c), 0);
  return {
    checkpoints: measured.length,
    meanMs: Math.round(sum((c) => c.durationMs) / Math.max(1, measured.length)),
    maxMs: Math.max(0, ...measured.map((c) => c.durationMs)),
    // Continuous spilling writes in-flight input between checkpoints too: it counts per checkpoint.
    persistedBytes: Math.round(sum((c) => c.stateBytes + c.channelStateBytes + c.spilledBytes) / Math.max(1, measured.length)),
    spilledBytes: Math.round(sum((c) => c.spilledBytes) / Math.max(1, measured.length)),
    channelStateBytes: Math.round(sum((c) => c.channelStateBytes) / Math.max(1, measured.length)),
    unalignedTasks: sum((c) => c.tasks.filter((t) => t.unaligned).length),
  };
}

/** Without backpressure: records/s and bytes written by unaligned checkpoints with and without continuous spilling. */
async function measureThroughput(mode: 'unaligned' | 'continuous_spill', records: number, scratch: string): Promise<{ recordsPerSec: number; bytesWritten: number }> {
  const job = await runJob(JOB_URL, {
    jobId: `spill-throughput-${mode}`,
    parallelism: 2,
    checkpointStorage: pathToFileURL(join(scratch, 'checkpoints')).href,
    params: { to: records, rate: 1e12, intervalMs: 200, sink: 'discard', output: join(scratch, 'unused'), ...modeParams(mode) },
  });
  const result = await job.done;
  const running = result.statusHistory.find((e) => e.status === 'RUNNING')?.at ?? 0;
  const ended = result.statusHistory.at(-1)?.at ?? 0;
  const bytesWritten = result.checkpoints.reduce((a, c) => a + c.stateBytes + c.channelStateBytes + c.spilledBytes, 0);
  return { recordsPerSec: Math.round(records / Math.max(0.001, (ended - running) / 1000)), bytesWritten };
}

export async function run(options: SuiteOptions): Promise<void> {
  const count = options.quick ? 4 : 8;
  const scratch = mkdtempSync(join(os.tmpdir(), 'baton-bench-backpressure-'));
  try {
    const figures: Partial<Record<Mode, ModeFigures>> = {};
    for (const mode of MODES) figures[mode] = await measure(mode, count, scratch);
    const aligned = figures.aligned!;
    const unaligned = figures.unaligned!;
    const records = options.quick ? 1_000_000 : 4_000_000;
    const plain = await measureThroughput('unaligned', records, scratch);
    const spilling = await measureThroughput('continuous_spill', records, scratch);
    const per = <K extends keyof ModeFigures>(key: K) => Object.fromEntries(MODES.map((m) => [m, figures[m]![key]]));
    const report = {
      suite: 'backpressure',
      quick: options.quick,
      setup: 'sequence at 8 000 records/s → keyBy → running sum (p2) → a stage at 500 µs/record (p1) → file sink (p2); checkpoints every 100 ms',
      checkpoint_ms: per('meanMs'),
      checkpoint_max_ms: per('maxMs'),
      persisted_bytes: per('persistedBytes'),
      channel_state_bytes: per('channelStateBytes'),
      spilled_bytes: per('spilledBytes'),
      unaligned_over_aligned: Math.round((unaligned.meanMs / Math.max(1, aligned.meanMs)) * 1000) / 1000,
      continuous_spill_over_aligned: Math.round((figures.continuous_spill!.meanMs / Math.max(1, aligned.meanMs)) * 1000) / 1000,
      tasks_switched_after_timeout: figures.aligned_timeout!.unalignedTasks,
      checkpoints_measured: per('checkpoints'),
      spill_throughput: {
        setup: `${records} records, no throttle, no rate limit, discard sink, unaligned checkpoints every 200 ms`,
        unaligned_records_per_sec: plain.recordsPerSec,
        continuous_spill_records_per_sec: spilling.recordsPerSec,
        ratio: Math.round((spilling.recordsPerSec / Math.max(1, plain.recordsPerSec)) * 1000) / 1000,
        unaligned_bytes_written: plain.bytesWritten,
        continuous_spill_bytes_written: spilling.bytesWritten,
      },
      notes: 'persisted_bytes is per checkpoint; for continuous_spill it includes the in-flight input spilled between checkpoints',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      date: new Date().toISOString(),
    };
    console.table(
      Object.fromEntries(
        MODES.map((m) => [
          m,
          { 'mean ms': figures[m]!.meanMs, 'max ms': figures[m]!.maxMs, 'bytes/checkpoint': figures[m]!.persistedBytes, 'channel state bytes': figures[m]!.channelStateBytes, 'spilled bytes': figures[m]!.spilledBytes },
        ]),
      ),
    );
    console.log(`unaligned / aligned checkpoint duration: ${report.unaligned_over_aligned}`);
    console.table({ unaligned: plain, continuous_spill: spilling });
    console.log(`continuous spilling / unaligned throughput without backpressure: ${report.spill_throughput.ratio}`);
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(RESULTS_FILE)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
