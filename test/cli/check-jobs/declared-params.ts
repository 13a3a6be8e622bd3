// A job with declared params, for `baton check` and `baton run` parameter reporting.
import { defineJob, param, Sinks, Sources } from 'baton';

export default defineJob(
  {
    params: {
      clicks: param.number({ default: 100, integer: true, min: 1, description: 'clicks to generate' }),
      region: param.string({ required: true, choices: ['eu', 'us'] }),
      dryRun: param.boolean(),
    },
  },
  (env, { clicks, region, dryRun }) => {
    const numbers = env.fromSource(Sources.sequence({ from: 1, to: clicks }), 'clicks').uid('clicks');
    numbers
      .map((n) => `${region}:${n}`)
      .sinkTo(dryRun ? Sinks.discard<string>() : Sinks.collect<string>())
      .uid('out');
  },
);
