// The throughput benchmark's job: sequence → map → keyBy → count per key in state → discard.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from 'baton';

class CountPerKey extends KeyedProcessFunction<number, number, number> {
  private count!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }

  processElement(_value: number, _ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    const next = (this.count.value() ?? 0) + 1;
    this.count.update(next);
    out.collect(next);
  }
}

export default defineJob((env) => {
  const n = Number(env.params.n ?? 1_000_000);
  env
    .fromSource(Sources.sequence({ from: 0, to: n - 1 }), 'numbers')
    .uid('numbers')
    .map((i) => (i * 7 + 3) % 1_000_003)
    .uid('map')
    .keyBy((v) => v % 1000)
    .process(new CountPerKey())
    .uid('count')
    .sinkTo(Sinks.discard<number>())
    .uid('discard');
});
