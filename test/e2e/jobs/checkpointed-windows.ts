// Checkpointed event-time windows: window contents live in keyed MapState, window ends in timers.
import { defineJob, Sinks, Sources } from 'baton';
import { clicksPerMinute } from './event-time-windows.ts';

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ intervalMs: 40, tolerableFailures: 5 });
  env.setAutoWatermarkInterval(0);
  const clicks = env
    .fromSource(Sources.sequence({ from: 0, to: Number(p.count ?? 20_000) - 1, ratePerSec: Number(p.rate ?? 25_000) }), 'clicks')
    .uid('clicks');
  clicksPerMinute(clicks)
    .sinkTo(Sinks.file({ path: String(p.output) }))
    .uid('windows');
});
