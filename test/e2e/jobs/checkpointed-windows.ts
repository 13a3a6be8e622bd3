// Checkpointed event-time windows: window contents live in keyed MapState, window ends in timers.
import { defineJob, Sinks, Sources, TumblingEventTimeWindows, WatermarkStrategy } from 'baton';
import { type Click, clickAggregate, clickFor, windowResult } from './event-time-windows.ts';

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ intervalMs: 40, tolerableFailures: 5 });
  env.setAutoWatermarkInterval(0);
  env
    .fromSource(Sources.sequence({ from: 0, to: Number(p.count ?? 20_000) - 1, ratePerSec: Number(p.rate ?? 25_000) }), 'clicks')
    .uid('clicks')
    .map((n) => clickFor(n))
    .uid('to-click')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(5_000).withTimestampAssigner((c) => c.at))
    .uid('timestamps')
    .keyBy((c) => c.user)
    .window(TumblingEventTimeWindows.of(60_000))
    .aggregate(clickAggregate, windowResult)
    .uid('per-minute')
    .sinkTo(Sinks.file({ path: String(p.output) }))
    .uid('windows');
});
