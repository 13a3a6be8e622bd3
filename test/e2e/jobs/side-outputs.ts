// Side outputs and explicit partitionings on real threads: even numbers on the main output, odd ones
// on a side output consumed by another task, and a broadcast to every subtask of a third.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, OutputTag, Sinks, Sources } from 'baton';

export const odd = new OutputTag<number>('odd');

class SplitParity extends KeyedProcessFunction<number, number, number> {
  processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    if (n % 2 === 0) out.collect(n);
    else ctx.output(odd, n);
  }
}

export default defineJob((env) => {
  const numbers = env.fromSource(Sources.sequence({ from: 1, to: Number(env.params.to ?? 1_000) }), 'numbers').uid('numbers');
  const evens = numbers.keyBy((n) => n % 7).process(new SplitParity()).uid('split');
  evens.sinkTo(Sinks.collect()).uid('evens');
  evens.getSideOutput(odd).map((n) => n * 10).uid('times-ten').sinkTo(Sinks.collect()).uid('odds');
  numbers.filter((n) => n % 100 === 0).uid('hundreds').broadcast().map((n) => -n).uid('negate').sinkTo(Sinks.collect()).uid('broadcast');
});
