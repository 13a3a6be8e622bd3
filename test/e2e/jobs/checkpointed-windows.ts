// Checkpointed event-time windows: window contents live in keyed MapState, window ends in timers.
import { defineJob, Sinks, Sources } from 'baton';
import { clicksPerMinute } from './event-time-windows.ts';

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ intervalMs: 40, tolerableFailures: 5 });
  env.setAutoWatermarkInterval(0);
  let clicks = env
    .fromSource(Sources.sequence({ from: 0, to: Number(p.count ?? 20_000) - 1, ratePerSec: Number(p.rate ?? 25_000) }), 'clicks')
    .uid('clicks');
  // One reader: the clicks read are then always 0..k, whatever stops the job.
  if (p.sourceParallelism !== undefined) clicks = clicks.setParallelism(Number(p.sourceParallelism));
  clicksPerMinute(clicks)
    .sinkTo(Sinks.file({ path: String(p.output) }))
    .uid('windows');
});
