// The throughput benchmark's job: sequence → map → keyBy → count per key in state → checksum sink.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, type Sink, Sources, type ValueState } from 'baton';
import { checksumTerm, keyOf, mapRecord } from '../workload.ts';

class CountPerKey extends KeyedProcessFunction<number, number, number> {
  private count!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }

  processElement(_value: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    const next = (this.count.value() ?? 0) + 1;
    this.count.update(next);
    out.collect(checksumTerm(ctx.key, next));
  }
}

/** Like Sinks.discard, but sums what it drops so the benchmark can check every record arrived once. */
function checksumSink(): Sink<number> {
  return {
    kind: 'checksum',
    validate() {},
    createWriter() {
      let sum = 0;
      return {
        write: (term: number) => {
          sum += term;
        },
        finish() {},
        abort() {},
        result: () => [sum],
      };
    },
  };
}

export default defineJob((env) => {
  const n = Number(env.params.n ?? 1_000_000);
  if (env.params.checkpointMs !== undefined) env.enableCheckpointing({ intervalMs: Number(env.params.checkpointMs), retain: 2 });
  const numbers = env.fromSource(Sources.sequence({ from: 0, to: n - 1 }), 'numbers').uid('numbers');
  const shape = String(env.params.shape ?? 'keyed-count');
  if (shape === 'source-only') {
    numbers.sinkTo(checksumSink()).uid('checksum');
    return;
  }
  const mapped = numbers.map(mapRecord).uid('map');
  if (shape === 'map-only') {
    mapped.sinkTo(checksumSink()).uid('checksum');
    return;
  }
  mapped.keyBy(keyOf).process(new CountPerKey()).uid('count').sinkTo(checksumSink()).uid('checksum');
});
