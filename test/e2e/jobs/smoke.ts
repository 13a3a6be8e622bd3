import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  env
    .fromSource(Sources.sequence({ from: 1, to: 10_000 }), 'numbers')
    .map((n) => n * 2)
    .keyBy((n) => n % 10)
    .reduce((a, b) => a + b)
    .uid('sum')
    .sinkTo(Sinks.collect<number>())
    .uid('out');
});
