// Backpressure suite: checkpoint duration and bytes persisted, aligned vs unaligned vs alignment timeout, with a throttled stage.
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

type Mode = 'aligned' | 'unaligned' | 'aligned_timeout';

interface ModeFigures {
  checkpoints: number;
  meanMs: number;
  maxMs: number;
  persistedBytes: number;
  channelStateBytes: number;
  unalignedTasks: number;
}

/** One run: an endless rate-limited source, a stage 4× slower than it, checkpoints every 100 ms, stopped after `count`. */
async function measure(mode: Mode, count: number, scratch: string): Promise<ModeFigures> {
  const params: Record<string, string | number> = {
    output: join(scratch, `out-${mode}`),
    to: 100_000_000,
    rate: 8_000,
    slowMicros: 500,
    intervalMs: 100,
    mode: mode === 'unaligned' ? 'unaligned' : 'aligned',
  };
  if (mode === 'aligned_timeout') params.alignedTimeoutMs = 20;
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
    persistedBytes: Math.round(sum((c) => c.stateBytes + c.channelStateBytes) / Math.max(1, measured.length)),
    channelStateBytes: Math.round(sum((c) => c.channelStateBytes) / Math.max(1, measured.length)),
    unalignedTasks: sum((c) => c.tasks.filter((t) => t.unaligned).length),
  };
}

export async function run(options: SuiteOptions): Promise<void> {
  const count = options.quick ? 4 : 8;
  const scratch = mkdtempSync(join(os.tmpdir(), 'baton-bench-backpressure-'));
  try {
    const figures: Partial<Record<Mode, ModeFigures>> = {};
    for (const mode of ['aligned', 'unaligned', 'aligned_timeout'] as const) figures[mode] = await measure(mode, count, scratch);
    const aligned = figures.aligned!;
    const unaligned = figures.unaligned!;
    const report = {
      suite: 'backpressure',
      quick: options.quick,
      setup: 'sequence at 8 000 records/s → keyBy → running sum (p2) → a stage at 500 µs/record (p1) → file sink (p2); checkpoints every 100 ms',
      checkpoint_ms: {
        aligned: aligned.meanMs,
        unaligned: unaligned.meanMs,
        aligned_timeout: figures.aligned_timeout!.meanMs,
        continuous_spill: null,
      },
      checkpoint_max_ms: { aligned: aligned.maxMs, unaligned: unaligned.maxMs, aligned_timeout: figures.aligned_timeout!.maxMs, continuous_spill: null },
      persisted_bytes: {
        aligned: aligned.persistedBytes,
        unaligned: unaligned.persistedBytes,
        aligned_timeout: figures.aligned_timeout!.persistedBytes,
        continuous_spill: null,
      },
      channel_state_bytes: { aligned: aligned.channelStateBytes, unaligned: unaligned.channelStateBytes, aligned_timeout: figures.aligned_timeout!.channelStateBytes },
      unaligned_over_aligned: Math.round((unaligned.meanMs / Math.max(1, aligned.meanMs)) * 1000) / 1000,
      tasks_switched_after_timeout: figures.aligned_timeout!.unalignedTasks,
      checkpoints_measured: { aligned: aligned.checkpoints, unaligned: unaligned.checkpoints, aligned_timeout: figures.aligned_timeout!.checkpoints },
      notes: 'continuous_spill is not implemented (null)',
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      date: new Date().toISOString(),
    };
    console.table(
      Object.fromEntries(
        (['aligned', 'unaligned', 'aligned_timeout'] as const).map((m) => [
          m,
          { 'mean ms': figures[m]!.meanMs, 'max ms': figures[m]!.maxMs, 'bytes/checkpoint': figures[m]!.persistedBytes, 'channel state bytes': figures[m]!.channelStateBytes },
        ]),
      ),
    );
    console.log(`unaligned / aligned checkpoint duration: ${report.unaligned_over_aligned}`);
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(RESULTS_FILE)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
