// Checkpoint suite: throughput with 1 s incremental checkpoints vs none, and delta bytes at 1% vs 10% churn.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runJob } from '../src/index.ts';
import { LmdbKeyedStateBackend, openStateEnvironment } from '../src/state/lmdb/lmdb-keyed-state-backend.ts';
import { encodeChunk } from '../src/state/snapshot/delta-chunk.ts';
import type { SuiteOptions } from './suite.ts';
import { assertChecksum, expectedChecksum } from './workload.ts';

const JOB_URL = new URL('./jobs/keyed-count.ts', import.meta.url);
const RESULTS_DIR = new URL('./results/', import.meta.url);
const RESULTS_FILE = new URL('./checkpoint.json', RESULTS_DIR);

interface RunFigures {
  recordsPerS: number;
  checkpoints: number;
  meanCheckpointMs: number;
  meanStateBytes: number;
}

async function throughputRun(n: number, storage: string | undefined, iteration: number): Promise<RunFigures> {
  const params: Record<string, number> = { n };
  if (storage) params.checkpointMs = 1_000;
  const job = await runJob(JOB_URL, { parallelism: 2, jobId: `bench-checkpoint-${iteration}`, params, checkpointStorage: storage });
  const result = await job.done;
  assertChecksum(storage ? 'with checkpoints' : 'without', n, ((result.collected.checksum ?? []) as number[]).reduce((a, b) => a + b, 0), expectedChecksum(n));
  const at = (s: string) => result.statusHistory.find((e) => e.status === s)?.at ?? Number.NaN;
  const completed = result.checkpoints.filter((c) => c.status === 'COMPLETED');
  return {
    recordsPerS: n / ((at('FINISHED') - at('RUNNING')) / 1000),
    checkpoints: completed.length,
    meanCheckpointMs: completed.length ? completed.reduce((a, c) => a + c.durationMs, 0) / completed.length : 0,
    meanStateBytes: completed.length ? completed.reduce((a, c) => a + c.stateBytes, 0) / completed.length : 0,
  };
}

/** Bytes of the delta chunk after changing `fraction` of a `keys`-key ValueState, through the real backend. */
function churnBytes(dir: string, keys: number, fractions: readonly number[]): { baseBytes: number; deltaBytes: Record<string, number> } {
  const env = openStateEnvironment(dir);
  const backend = new LmdbKeyedStateBackend({ env, dbName: 'churn', keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128 });
  const state = backend.valueState<{ count: number; last: number }>('stats');
  for (let k = 0; k < keys; k++) {
    backend.setCurrentKey(k);
    state.update({ count: 1, last: k });
  }
  backend.snapshot();
  const baseBytes = encodeChunk(backend.fullSnapshot()).length;
  const deltaBytes: Record<string, number> = {};
  let round = 2;
  for (const fraction of fractions) {
    const changed = Math.round(keys * fraction);
    // A different, evenly spread set of keys each round.
    const stride = Math.floor(keys / changed);
    for (let i = 0; i < changed; i++) {
      const k = (i * stride + round) % keys;
      backend.setCurrentKey(k);
      state.update({ count: round, last: i });
    }
    deltaBytes[`churn_${Math.round(fraction * 100)}pct`] = backend.snapshot().chunks.reduce((a, c) => a + encodeChunk(c.chunk).length, 0);
    round++;
  }
  backend.dispose();
  void env.close();
  return { baseBytes, deltaBytes };
}

export async function run(options: SuiteOptions): Promise<void> {
  const n = options.quick ? 10_000_000 : 40_000_000;
  const iterations = options.quick ? 1 : 3;
  const keys = options.quick ? 200_000 : 1_000_000;
  const scratch = mkdtempSync(join(os.tmpdir(), 'baton-bench-checkpoint-'));
  try {
    const storage = pathToFileURL(join(scratch, 'checkpoints')).href;
    const without: RunFigures[] = [];
    const withCheckpoints: RunFigures[] = [];
    // Interleaved, so drift of the machine hits both sides alike.
    for (let i = 0; i < iterations; i++) {
      without.push(await throughputRun(n, undefined, i));
      withCheckpoints.push(await throughputRun(n, storage, i));
    }
    const mean = (xs: RunFigures[], f: (r: RunFigures) => number) => xs.reduce((a, r) => a + f(r), 0) / xs.length;
    const plain = mean(without, (r) => r.recordsPerS);
    const checkpointed = mean(withCheckpoints, (r) => r.recordsPerS);
    mkdirSync(join(scratch, 'lmdb'));
    const churn = churnBytes(join(scratch, 'lmdb'), keys, [0.01, 0.1]);
    const report = {
      suite: 'checkpoint',
      quick: options.quick,
      records: n,
      iterations,
      throughput_ratio_with_checkpoints: Math.round((checkpointed / plain) * 1000) / 1000,
      records_per_s: { without_checkpoints: Math.round(plain), with_1s_checkpoints: Math.round(checkpointed) },
      checkpoints_per_run: mean(withCheckpoints, (r) => r.checkpoints),
      mean_checkpoint_ms: Math.round(mean(withCheckpoints, (r) => r.meanCheckpointMs) * 10) / 10,
      state_keys: keys,
      base_bytes: churn.baseBytes,
      bytes_per_checkpoint: churn.deltaBytes,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      date: new Date().toISOString(),
    };
    console.table({
      'without checkpoints': { 'records/s': `${(plain / 1e6).toFixed(2)} M` },
      'with 1 s checkpoints': { 'records/s': `${(checkpointed / 1e6).toFixed(2)} M`, ratio: report.throughput_ratio_with_checkpoints },
    });
    console.table({
      [`base (${keys} keys)`]: { bytes: churn.baseBytes },
      ...Object.fromEntries(Object.entries(churn.deltaBytes).map(([k, v]) => [k, { bytes: v, 'of base': `${((v / churn.baseBytes) * 100).toFixed(1)}%` }])),
    });
    mkdirSync(RESULTS_DIR, { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${fileURLToPath(RESULTS_FILE)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
