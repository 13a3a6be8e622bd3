// Shared helpers of the end-to-end tests: run a job module from test/e2e/jobs and wait for its result.
import { runJob, type JobResult, type RunJobOptions } from '../../src/index.ts';

export function jobUrl(name: string): URL {
  return new URL(`./jobs/${name}.ts`, import.meta.url);
}

export async function runToCompletion(name: string, options: RunJobOptions): Promise<JobResult> {
  const job = await runJob(jobUrl(name), options);
  const result = await job.done;
  if (job.liveWorkerThreads() !== 0) throw new Error(`job ${name} left ${job.liveWorkerThreads()} worker threads alive`);
  return result;
}

/** Deterministic order for comparing collected records across parallelisms. */
export function sortedJson(records: readonly unknown[]): string[] {
  return records.map((r) => JSON.stringify(r)).sort();
}
