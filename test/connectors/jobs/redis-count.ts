// Redis Streams → running count per (stream, user) in keyed state → the transactional file sink. Each
// output line depends on every earlier entry of its key, so an entry lost or read twice shows.
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, type RedisStreamEntry, Sinks, Sources, type ValueState } from 'baton';

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

/**
 * Ends this worker thread abruptly once file `when` exists, once (the marker, created exclusively,
 * lets later attempts and other threads pass). Checked every 16 records and, in worker threads,
 * every 2 ms, so it also lands while the source waits for entries.
 */
function crashOnceWhen(when: string, marker: string): (e: RedisStreamEntry) => RedisStreamEntry {
  const crash = (at: string) => {
    if (!existsSync(when) || existsSync(marker)) return;
    try {
      closeSync(openSync(marker, 'wx'));
    } catch {
      return;
    }
    writeFileSync(marker, `crashed at ${at}`);
    process.exit(17);
  };
  if (!isMainThread) setInterval(() => crash('a check while idle'), 2).unref();
  let seen = 0;
  return (e) => {
    if (++seen % 16 === 0) crash(`entry ${e.stream} ${e.id}`);
    return e;
  };
}

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 50), tolerableFailures: 5 });
  let entries = env
    .fromSource(Sources.redisStreams({ url: String(p.url), streams: String(p.streams).split(','), start: 'earliest', batch: 100, blockMs: 100 }), 'redis')
    .uid('redis');
  if (p.crashWhenFile !== undefined) entries = entries.map(crashOnceWhen(String(p.crashWhenFile), String(p.crashMarker))).uid('crash');
  entries
    .keyBy((e) => `${e.stream}/${e.fields.user}`)
    .process(new RunningCount())
    .uid('count')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
