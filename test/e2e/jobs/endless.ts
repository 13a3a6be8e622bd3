// A slow, practically endless job, to cancel while it runs.
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  env
    .fromSource(Sources.sequence({ from: 0, to: 1_000_000_000, ratePerSec: 2_000 }), 'ticks')
    .keyBy((n) => n % 4)
    .reduce((a, b) => a + b)
    .sinkTo(Sinks.file({ path: String(env.params.output) }))
    .uid('files');
});
