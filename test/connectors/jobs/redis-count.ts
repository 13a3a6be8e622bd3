// Redis Streams → running count per (stream, user) in keyed state → the transactional file sink. Each
// output line depends on every earlier entry of its key, so an entry lost or read twice shows.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, type RedisStreamEntry, Sinks, Sources, type ValueState } from 'baton';
import { crashOnceWhen } from '../../support/crash-once.ts';

export class RunningCount extends KeyedProcessFunction<string, RedisStreamEntry, string> {
  private count!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(e: RedisStreamEntry, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(`${ctx.key}#${n}=${e.id}`);
  }
}

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 50), tolerableFailures: 5 });
  let entries = env
    .fromSource(Sources.redisStreams({ url: String(p.url), streams: String(p.streams).split(','), start: 'earliest', batch: 100, blockMs: 100 }), 'redis')
    .uid('redis');
  if (p.crashWhenFile !== undefined) entries = entries.map(crashOnceWhen<RedisStreamEntry>(String(p.crashWhenFile), String(p.crashMarker), 16)).uid('crash');
  entries
    .keyBy((e) => `${e.stream}/${e.fields.user}`)
    .process(new RunningCount())
    .uid('count')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
