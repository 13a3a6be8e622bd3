// defineJob: the default export of a job module, built the same way in every thread.
import { JobConfigError } from '../runtime/index.ts';
import { type GraphBuildConfig, type JobDefinition, type JobParam, type JobParamSpec, markJobDefinition } from '../runtime/types.ts';
import { StreamExecutionEnvironment } from './environment.ts';
import { type ParamDeclarations, type ParamValues, paramSpecs, resolveParams } from './job-params.ts';

/** The first argument of the declaring form of {@link defineJob}. */
export interface JobSpec<D extends ParamDeclarations> {
  /** The job's parameters, made with `param.string/number/boolean(...)`. */
  readonly params: D;
}

/**
 * Declares a job with typed parameters: they are converted, defaulted and checked before anything
 * starts (a missing required one or a wrong type is a JobConfigError naming it), and the builder
 * gets them typed. `env.params` holds the same values.
 *
 * @example
 * export default defineJob({ params: { clicks: param.number({ default: 200_000 }), region: param.string({ required: true }) } }, (env, { clicks, region }) => {
 *   env.fromSource(Sources.sequence({ from: 1, to: clicks }), 'clicks').map((n) => `${region}:${n}`).sinkTo(Sinks.discard());
 * });
 */
export function defineJob<D extends ParamDeclarations>(spec: JobSpec<D>, build: (env: StreamExecutionEnvironment, params: ParamValues<D>) => void): JobDefinition;
// Last on purpose: `Parameters<typeof defineJob>` reads the last overload, the common form.
/**
 * Declares a job. The builder runs once per thread, so it must be deterministic.
 *
 * @example
 * export default defineJob((env) => {
 *   env.fromElements('a b', 'b').flatMap((line, out) => line.split(' ').forEach((w) => out.collect(w)))
 *      .keyBy((w) => w).reduce((a) => a).sinkTo(Sinks.discard());
 * });
 */
export function defineJob(build: (env: StreamExecutionEnvironment) => void): JobDefinition;
export function defineJob(
  first: ((env: StreamExecutionEnvironment) => void) | JobSpec<ParamDeclarations>,
  second?: (env: StreamExecutionEnvironment, params: ParamValues<ParamDeclarations>) => void,
): JobDefinition {
  if (typeof first === 'function') return define(first, undefined);
  if (typeof first !== 'object' || first === null) throw new JobConfigError('defineJob', 'expected a function (env) => { ... }, or ({ params }, (env, params) => { ... })');
  const unknown = Object.keys(first).filter((k) => k !== 'params');
  if (unknown.length > 0) throw new JobConfigError('defineJob', `unknown key '${unknown[0]}' in the job spec (known: params)`);
  if (typeof second !== 'function') throw new JobConfigError('defineJob', 'expected the job builder (env, params) => { ... } after the spec');
  return define(second, paramSpecs(first.params));
}

function define(build: (env: StreamExecutionEnvironment, params: never) => void, specs: Record<string, JobParamSpec> | undefined): JobDefinition {
  return markJobDefinition((config: GraphBuildConfig) => {
    // Declared parameters are checked first: a bad one fails here, on the main thread, before any worker starts.
    const values = specs ? resolveParams(specs, config.params) : undefined;
    const params = values ? (Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, JobParam>) : config.params;
    const env = new StreamExecutionEnvironment(config.parallelism, config.maxParallelism, params, config.overrides);
    const result: unknown = build(env, (values ?? {}) as never);
    if (result instanceof Promise) throw new JobConfigError('defineJob', 'the job builder must be synchronous (do async set-up in onBeforeStateLoad hooks or operator open)');
    const graph = env.toJobGraph();
    return { nodes: graph.nodes, hooks: graph.hooks, config: graph.config, maxParallelism: config.maxParallelism };
  }, specs);
}
