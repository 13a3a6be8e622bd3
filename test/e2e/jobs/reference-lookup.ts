// A job whose pre-state-load hook loads reference data once for all workers; its map reads it through referenceData().
import { defineJob, referenceData, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  const uri = String(env.params.refUri);
  if (env.params.checkpointed === true) env.enableCheckpointing({ intervalMs: 100 });
  env.onBeforeStateLoad('prices', async (ctx) => {
    if (env.params.failHook === true) throw new Error('price list unavailable');
    const data = await ctx.loadReferenceData(uri);
    // Every worker adds 1 to the first int: with one shared buffer the map sees the sum of all.
    Atomics.add(new Int32Array(data.buffer), 0, 1);
  });
  env
    .fromSource(Sources.sequence({ from: 1, to: Number(env.params.to ?? 100) }), 'numbers')
    .uid('numbers')
    .map((n) => {
      const ints = new Int32Array(referenceData(uri).buffer);
      return { n, price: ints[n % 16], hooksSeen: Atomics.load(ints, 0) };
    })
    .uid('lookup')
    .sinkTo(Sinks.collect())
    .uid('out');
});
