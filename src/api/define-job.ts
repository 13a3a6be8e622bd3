// defineJob: the default export of a job module, built the same way in every thread.
import { JobConfigError } from '../runtime/errors.ts';
import { type JobDefinition, markJobDefinition } from '../runtime/types.ts';
import { StreamExecutionEnvironment } from './environment.ts';

/**
 * Declares a job. The builder runs once per thread, so it must be deterministic.
 *
 * @example
 * export default defineJob((env) => {
 *   env.fromElements('a b', 'b').flatMap((line, out) => line.split(' ').forEach((w) => out.collect(w)))
 *      .keyBy((w) => w).reduce((a) => a).sinkTo(Sinks.discard());
 * });
 */
export function defineJob(build: (env: StreamExecutionEnvironment) => void): JobDefinition {
  if (typeof build !== 'function') throw new JobConfigError('defineJob', 'expected a function (env) => { ... }');
  return markJobDefinition((config) => {
    const env = new StreamExecutionEnvironment(config.parallelism, config.maxParallelism, config.params, config.overrides);
    const result: unknown = build(env);
    if (result instanceof Promise) throw new JobConfigError('defineJob', 'the job builder must be synchronous (do async set-up in onBeforeStateLoad hooks or operator open)');
    const graph = env.toJobGraph();
    return { nodes: graph.nodes, hooks: graph.hooks, config: graph.config, maxParallelism: config.maxParallelism };
  });
}
