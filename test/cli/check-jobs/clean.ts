// A job `baton check` accepts: checkpointing on, every stateful operator with an explicit uid.
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  env
    .fromSource(Sources.sequence({ from: 1, to: 100 }), 'numbers')
    .uid('numbers')
    .map((n) => n * 2)
    .keyBy((n) => n % 7)
    .reduce((a, b) => a + b)
    .uid('sums')
    .sinkTo(Sinks.collect<number>())
    .uid('out');
});
