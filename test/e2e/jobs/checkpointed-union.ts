// Two sources united into a keyed running sum: every keyed subtask aligns barriers from several channels.
import { defineJob, Sinks, Sources } from 'baton';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';
import { RunningSum } from './checkpointed-sum.ts';


export default defineJob((env) => {
  const p = env.params;
  const to = Number(p.to ?? 4_000);
  const rate = Number(p.rate ?? 8_000);
  env.enableCheckpointing({ intervalMs: 30, tolerableFailures: 50 });
  // Odd numbers from one source, even from the other; keyed by n % 5 so each key sees both.
  // Param `pacedBy`: each source reads `segment` more numbers per checkpoint the test announces there.
  const numbers = (from: number, last: number) =>
    p.pacedBy === undefined ? Sources.sequence({ from, to: last, ratePerSec: rate }) : pacedSequence({ from, to: last, segment: Number(p.segment ?? 200), signals: String(p.pacedBy) });
  const odd = env.fromSource(numbers(0, to / 2 - 1), 'odd').setParallelism(1).uid('odd').map((i) => 2 * i + 1).setParallelism(1).uid('to-odd');
  const even = env.fromSource(numbers(1, to / 2), 'even').setParallelism(1).uid('even').map((i) => 2 * i).setParallelism(1).uid('to-even');
  odd
    .union(even)
    .keyBy((n) => n % 5)
    .process(new RunningSum())
    .uid('sum')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (l) => l }))
    .uid('out');
});
