// `baton check`: everything that can be known about a job without running it: its types, its
// options and its graph, built on this thread the way runJob builds it (no worker thread starts).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleJob, fromSources, runtimeBuild } from '../../runtime/code/index.ts';
import { loadGraph, toModuleUrl } from '../../runtime/coordinator/job-runner.ts';
import { parseRunJobOptions } from '../../runtime/coordinator/run-options.ts';
import { BatonError } from '../../runtime/index.ts';
import { findGraphProblems, findMissingUids } from '../../runtime/graph/index.ts';
import { isJobDefinition, type JobGraph, type JobParam, type JobParamSpec } from '../../runtime/types.ts';
import { displayPath, type TypeCheckResult, typeCheckJob } from './type-check.ts';

export interface CheckJobOptions {
  readonly parallelism?: number;
  readonly maxParallelism?: number;
  readonly params?: Readonly<Record<string, JobParam>>;
  /** Type-check the module first (default true). */
  readonly typeCheck?: boolean;
  /** Where to resolve `typescript` from, first match wins (default: the job's folder, then baton's). */
  readonly typeScriptFrom?: readonly string[];
}

export interface CheckJobReport {
  /** One line per problem; the job is fine when there are none. */
  readonly problems: readonly string[];
  /** What the check could not do (e.g. no TypeScript installed): printed, but not a problem of the job. */
  readonly warnings: readonly string[];
  readonly typeCheck: TypeCheckResult | undefined;
  /** The graph, when the module loaded and built one. */
  readonly graph: JobGraph | undefined;
  /** The parameters the job declares (`defineJob({ params }, ...)`), when the module loaded and declares any. */
  readonly params?: Readonly<Record<string, JobParamSpec>>;
}

/**
 * Type-checks a job module and validates its graph without running it: options, parallelism,
 * source and sink settings, and (with checkpointing on) stateful operators without `.uid(...)`.
 *
 * @example
 * const { problems } = await checkJob('jobs/orders.ts', { parallelism: 4 });
 * for (const line of problems) console.log(line);
 */
export async function checkJob(job: string, options: CheckJobOptions = {}): Promise<CheckJobReport> {
  const jobPath = /^file:\/\//i.test(job) ? fileURLToPath(job) : resolve(job);
  const shown = displayPath(jobPath);
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!existsSync(jobPath)) return { problems: [`${job}: no such file`], warnings, typeCheck: undefined, graph: undefined };

  const typeCheck = options.typeCheck === false ? undefined : await typeCheckJob(jobPath, options.typeScriptFrom);
  if (typeCheck?.kind === 'checked') problems.push(...typeCheck.errors);
  if (typeCheck?.kind === 'skipped') warnings.push(`type-check skipped: ${typeCheck.reason}`);

  const built = await buildGraph(jobPath, options, (line) => problems.push(`${shown}: ${line}`));
  const graph = built?.graph;
  if (graph) {
    for (const problem of findGraphProblems(graph)) problems.push(`${shown}: ${problem.message}`);
    for (const missing of findMissingUids(graph)) problems.push(`${shown}: ${missing.message}`);
  }
  return { problems, warnings, typeCheck, graph, ...(built?.params ? { params: built.params } : {}) };
}

/**
 * The job's graph as runJob builds it on the main thread (undefined after reporting why there is
 * none), and the params it declares (known even when a param stops the graph from building).
 */
async function buildGraph(
  jobPath: string,
  options: CheckJobOptions,
  report: (line: string) => void,
): Promise<{ graph: JobGraph | undefined; params: Readonly<Record<string, JobParamSpec>> | undefined } | undefined> {
  let params: Readonly<Record<string, JobParamSpec>> | undefined;
  try {
    const resolved = parseRunJobOptions({ parallelism: options.parallelism, maxParallelism: options.maxParallelism, params: options.params });
    const url = toModuleUrl(jobPath);
    // From baton's build there is no TypeScript loader on this thread: the job's bundle is what runJob would import too.
    const importUrl = fromSources ? url : await bundleJob(url, await runtimeBuild());
    params = await declaredParams(importUrl);
    return { graph: await loadGraph(url, resolved, importUrl), params };
  } catch (error) {
    // A BatonError (JobConfigError, JobModuleError) names what is wrong; anything else was thrown by the job's own code.
    report(error instanceof BatonError ? error.message : `building the job graph threw ${describe(error)}`);
    return { graph: undefined, params };
  }
}

/** The params the module's job declares; undefined if it declares none or does not load (loadGraph reports that). */
async function declaredParams(importUrl: string): Promise<Readonly<Record<string, JobParamSpec>> | undefined> {
  try {
    const module = (await import(importUrl)) as { default?: unknown };
    return isJobDefinition(module.default) ? module.default.params : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
