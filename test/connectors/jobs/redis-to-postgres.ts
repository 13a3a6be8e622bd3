// Redis Streams → running count per (stream, user) in keyed state → PostgreSQL, exactly once (2PC). Each
// row depends on every earlier entry of its key, so an entry lost or read twice shows in the table.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, type RedisStreamEntry, Sinks, Sources, type ValueState } from 'baton';
import { crashOnceWhen } from '../../support/crash-once.ts';

export interface CountRow {
  readonly key: string;
  readonly n: number;
  readonly entry: string;
}

class RunningCount extends KeyedProcessFunction<string, RedisStreamEntry, CountRow> {
  private count!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(e: RedisStreamEntry, ctx: KeyedProcessContext<string>, out: Collector<CountRow>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect({ key: ctx.key, n, entry: e.id });
  }
}

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 50), tolerableFailures: 5 });
  let entries = env
    .fromSource(Sources.redisStreams({ url: String(p.redis), streams: String(p.streams).split(','), start: 'earliest', batch: 100, blockMs: 100 }), 'redis')
    .uid('redis');
  if (p.crashWhenFile !== undefined) entries = entries.map(crashOnceWhen<RedisStreamEntry>(String(p.crashWhenFile), String(p.crashMarker), 16)).uid('crash');
  entries
    .keyBy((e) => `${e.stream}/${e.fields.user}`)
    .process(new RunningCount())
    .uid('count')
    .sinkTo(Sinks.postgres<CountRow>({ connection: String(p.postgres), mode: 'exactly-once', table: String(p.table), columns: ['key', 'n', 'entry'] }))
    .uid('pg');
});
