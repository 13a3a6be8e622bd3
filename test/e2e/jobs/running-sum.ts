// Keyed running sum over a sequence, with a KeyedProcessFunction holding ValueState per key.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from 'baton';

class RunningSum extends KeyedProcessFunction<number, number, [number, number]> {
  private sum!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.sum = ctx.valueState<number>('sum');
  }

  processElement(value: number, ctx: KeyedProcessContext<number>, out: Collector<[number, number]>): void {
    const next = (this.sum.value() ?? 0) + value;
    this.sum.update(next);
    out.collect([ctx.key, next]);
  }
}

export default defineJob((env) => {
  const to = Number(env.params.to ?? 20_000);
  env
    // One reader keeps each key's records in sequence order, so the running sums are deterministic.
    .fromSource(Sources.sequence({ from: 1, to }), 'numbers')
    .setParallelism(1)
    .uid('numbers')
    .keyBy((n) => n % 13)
    .process(new RunningSum())
    .uid('running-sum')
    .sinkTo(Sinks.collect<[number, number]>())
    .uid('sums');
});
