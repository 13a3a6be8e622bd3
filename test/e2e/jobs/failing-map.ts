// A map that throws on one record, to check failures name the operator and subtask.
import { defineJob, Sinks, Sources } from 'baton';

export function explode(n: number): number {
  throw new Error(`cannot handle record ${n}`);
}

export default defineJob((env) => {
  const failAt = Number(env.params.failAt ?? 5_000);
  env
    .fromSource(Sources.sequence({ from: 0, to: 1_000_000 }), 'numbers')
    .map((n) => (n === failAt ? explode(n) : n))
    .uid('boom')
    .keyBy((n) => n % 10)
    .reduce((a, b) => a + b)
    .sinkTo(Sinks.file({ path: String(env.params.output) }))
    .uid('files');
});
