// Several graph problems at once: a keyed operator wider than maxParallelism, fromElements above
// parallelism 1, a file sink on a path that is a file (all reported, not just the first).
import { defineJob, Sinks } from 'baton';

export default defineJob((env) => {
  env
    .fromElements(1, 2, 3)
    .setParallelism(2)
    .uid('elements')
    .keyBy((n) => n % 2)
    .reduce((a, b) => a + b)
    .setParallelism(Number(env.params.keyedParallelism ?? 4))
    .uid('sums')
    .sinkTo(Sinks.file<number>({ path: String(env.params.sinkPath) }))
    .uid('sink');
});
