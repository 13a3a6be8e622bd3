// Start-up (`npm run bench -- startup`): runJob → RUNNING for the examples at parallelism 1 and 2,
// side by side with the floor (the same number of bare worker threads that import nothing).
// Each row runs in a fresh child process, so nothing is warm that a user's first job would not find cold
// (the OS file cache aside: the first, discarded run of each row warms that, as any second start would).
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SuiteOptions } from './suite.ts';

const RESULTS_FILE = new URL('./results/startup.json', import.meta.url);
const CHILD = fileURLToPath(new URL('./startup-child.mjs', import.meta.url));
const EXAMPLES = ['clickstream', 'orders'] as const;

interface Sample {
  readonly ms: number;
}

/** One measurement in a fresh Node process: `floor` (bare threads) or an example job. */
function measure(what: string, parallelism: number): number {
  const out = execFileSync(process.execPath, [CHILD, what, String(parallelism)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.trim().split('\n').at(-1) ?? '';
  const sample = JSON.parse(line) as Sample;
  return sample.ms;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

export async function run(options: SuiteOptions): Promise<void> {
  const runs = Number(process.env.BATON_BENCH_STARTUP_RUNS ?? (options.quick ? 3 : 10));
  const rows: Array<Record<string, unknown>> = [];
  for (const parallelism of [1, 2]) {
    // Interleaved (floor, job, job, floor, ...) so a load change hits every row alike.
    const samples = new Map<string, number[]>([['floor', []], ...EXAMPLES.map((e) => [e, []] as [string, number[]])]);
    for (const what of samples.keys()) measure(what, parallelism);
    for (let i = 0; i < runs; i++) for (const [what, xs] of samples) xs.push(measure(what, parallelism));
    const floor = median(samples.get('floor')!);
    for (const [what, xs] of samples) {
      const p50 = median(xs);
      rows.push({ job: what, parallelism, runs, p50_ms: round(p50), min_ms: round(Math.min(...xs)), max_ms: round(Math.max(...xs)), ratio_to_floor: round(p50 / floor) });
    }
  }
  console.table(rows);
  await mkdir(new URL('./', RESULTS_FILE), { recursive: true });
  await writeFile(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        measured: 'runJob(example) until the job status is RUNNING, in a fresh process (module loading of the main thread excluded: the clock starts just before runJob); floor: the same number of bare worker threads (eval, no imports) until each posted a message',
        machine: { cpus: os.cpus().length, node: process.version, loadavg: os.loadavg().map(round) },
        at: new Date().toISOString(),
        rows,
      },
      null,
      2,
    )}\n`,
  );
}
