// Pre-state-load hooks run in every worker before any record is processed.
import { defineJob, Sinks, Sources } from 'baton';

const loaded: string[] = [];

export default defineJob((env) => {
  env.onBeforeStateLoad('refdata', async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    loaded.push(`worker-${ctx.workerIndex}-of-${ctx.workers}`);
  });
  env
    .fromSource(Sources.sequence({ from: 1, to: 100 }))
    // Reads what the hook loaded in this worker: proves the hook ran first, in the same thread.
    .map((n) => `${n}:${loaded.join(',')}`)
    .sinkTo(Sinks.collect<string>())
    .uid('out');
});
