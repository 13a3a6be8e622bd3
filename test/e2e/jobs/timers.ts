// Timers per key: an event-time timer 1 s after a key's first record, and a processing-time timer.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, type OnTimerContext, Sinks, Sources, type ValueState, WatermarkStrategy } from 'baton';

interface Reading {
  readonly sensor: string;
  readonly at: number;
}

type Fired = { sensor: string; domain: string; timer: number; seen: number };

class FirstSecond extends KeyedProcessFunction<string, Reading, Fired> {
  private seen!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.seen = ctx.valueState<number>('seen');
  }

  processElement(reading: Reading, ctx: KeyedProcessContext<string>, _out: Collector<Fired>): void {
    const seen = this.seen.value() ?? 0;
    if (seen === 0) {
      ctx.timerService.registerEventTimeTimer(reading.at + 1_000);
      // Far in the future: fires at the end of the bounded input.
      ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 3_600_000);
    }
    this.seen.update(seen + 1);
  }

  override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<Fired>): void {
    const timer = ctx.timeDomain === 'event-time' ? timestamp : -1;
    out.collect({ sensor: ctx.key, domain: ctx.timeDomain, timer, seen: this.seen.value() ?? 0 });
  }
}

export default defineJob((env) => {
  const count = Number(env.params.count ?? 5_000);
  env.setAutoWatermarkInterval(0);
  env
    .fromSource(Sources.sequence({ from: 0, to: count - 1 }), 'readings')
    .setParallelism(1)
    // Source, map and timestamps stay in one ordered chain; only the keyed part runs in parallel.
    .map((n): Reading => ({ sensor: `s${n % 50}`, at: n * 10 }))
    .setParallelism(1)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Reading>().withTimestampAssigner((r) => r.at))
    .setParallelism(1)
    .keyBy((r) => r.sensor)
    .process(new FirstSecond())
    .uid('first-second')
    .sinkTo(Sinks.collect<Fired>())
    .uid('fired');
});
