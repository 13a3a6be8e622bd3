// A small checkpointed job that leaves a mark (a line in `params.marker`) in every worker thread
// that builds its graph: a test reads from the file whether any worker thread started.
import { appendFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  const p = env.params;
  if (!isMainThread && typeof p.marker === 'string') appendFileSync(p.marker, `worker thread ${threadId}\n`);
  env.enableCheckpointing({ intervalMs: 20 });
  env
    .fromSource(Sources.sequence({ from: 1, to: Number(p.to ?? 50), ...(p.rate === undefined ? {} : { ratePerSec: Number(p.rate) }) }), 'numbers')
    .uid('numbers')
    .map((n) => n * 2)
    .uid('double')
    .sinkTo(Sinks.collect())
    .uid('out');
});
