// Checkpointing with stateful operators left on position-derived uids: the source, the keyed
// reduce and the transactional file sink (the map and the collect sink hold no checkpointed state).
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  const sums = env
    .fromSource(Sources.sequence({ from: 1, to: 100 }), 'numbers')
    .map((n) => n * 2)
    .keyBy((n) => n % 7)
    .reduce((a, b) => a + b);
  sums.sinkTo(Sinks.file<number>({ path: String(env.params.out ?? './out') }));
  sums.sinkTo(Sinks.collect<number>());
});
