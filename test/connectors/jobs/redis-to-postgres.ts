// Redis Streams → running count per key in keyed state → PostgreSQL, exactly once (2PC). Each row
// depends on every earlier entry of its key, so an entry lost or read twice shows in the table.
// Params: redis, streams (comma-separated), postgres, table; keyBy 'user' (the default key is
// '<stream>/<user>'; 'user' suits input sharded by user, where each user's entries are in one stream);
// end 'bounded' (read what the streams hold at the start, then finish); crashWhenFile/crashMarker;
// the sink's timeouts connectMs, statementMs, waitForServerMs.
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
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 50), tolerableFailures: Number(p.tolerableFailures ?? 5) });
  const end = p.end === 'bounded' ? 'bounded' : 'unbounded';
  let entries = env
    .fromSource(Sources.redisStreams({ url: String(p.redis), streams: String(p.streams).split(','), start: 'earliest', end, batch: 100, blockMs: 100 }), 'redis')
    .uid('redis');
  if (p.crashWhenFile !== undefined) entries = entries.map(crashOnceWhen<RedisStreamEntry>(String(p.crashWhenFile), String(p.crashMarker), 16)).uid('crash');
  const byUser = p.keyBy === 'user';
  const ms = (name: string) => (p[name] === undefined ? undefined : Number(p[name]));
  const timeouts = { connectMs: ms('connectMs'), statementMs: ms('statementMs'), waitForServerMs: ms('waitForServerMs') };
  entries
    .keyBy((e) => (byUser ? String(e.fields.user) : `${e.stream}/${e.fields.user}`))
    .process(new RunningCount())
    .uid('count')
    .sinkTo(Sinks.postgres<CountRow>({ connection: String(p.postgres), mode: 'exactly-once', table: String(p.table), columns: ['key', 'n', 'entry'], timeouts }))
    .uid('pg');
});
