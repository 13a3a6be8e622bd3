// A pre-state-load hook that fails on one worker.
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  env.onBeforeStateLoad('load-refdata', (ctx) => {
    if (ctx.workerIndex === ctx.workers - 1) throw new Error('reference data bucket unreachable');
  });
  env.fromSource(Sources.sequence({ from: 0, to: 10 })).sinkTo(Sinks.discard());
});
