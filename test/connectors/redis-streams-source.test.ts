// Sources.redisStreams against a real redis-server, in testJob (in-thread, `inputs: []` keeps the real source):
// bounded and unbounded reads, start positions, exactly-once positions across crash + restore at other
// parallelisms, a checkpoint while every read blocks (wakeUp), event time, watermarks and idleness.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStreamEntry } from '../../src/connectors/redis-streams/index.ts';
import { RedisStreamsEventTimeError } from '../../src/connectors/redis-streams/index.ts';
import {
  type Collector,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  Sinks,
  Sources,
  TumblingEventTimeWindows,
  type ValueState,
} from '../../src/index.ts';
import { type TestDriver, testJob } from '../../src/testing/index.ts';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.ts';

let server: RedisServerHandle;
let redis: Redis;
let counter = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

/** Fresh stream keys per test, so tests never see each other's entries. */
function keys(n: number): string[] {
  counter++;
  return Array.from({ length: n }, (_, i) => `t${counter}:events:{${i}}`);
}

/** Appends `count` entries to `stream` (user u0..u4, seq), in one round trip; returns their IDs. */
async function append(stream: string, count: number, from = 0): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (let i = from; i < from + count; i++) pipeline.xadd(stream, '*', 'user', `u${i % 5}`, 'seq', String(i));
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, id]) => {
    if (error) throw error;
    return id as string;
  });
}

/** Waits (~5 ms at a time) until `done` (or the asynchronous `check`) holds; a failed driver rejects. */
async function until(driver: TestDriver, done: () => boolean, check?: () => Promise<boolean>): Promise<void> {
  for (;;) {
    driver.requireRunning();
    if (done() || (check !== undefined && (await check()))) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether `n` connections of the source (named `baton:<uid>:<subtask>`) are blocked in an XREAD on the server. */
function blockedReads(n: number): () => Promise<boolean> {
  return async () => {
    const list = (await redis.call('CLIENT', 'LIST')) as string;
    return list.split('\n').filter((line) => / name=baton:/.test(line) && / cmd=xread/.test(line) && / flags=\S*b/.test(line)).length >= n;
  };
}

/** A running count per (stream, user): each output depends on every earlier entry of its key, so a lost or repeated entry shows. */
class RunningCount extends KeyedProcessFunction<string, RedisStreamEntry, string> {
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

/** The output of one uninterrupted run over these entries (per key, entries come in stream order). */
function expectedCounts(entries: ReadonlyMap<string, readonly string[]>): string[] {
  const lines: string[] = [];
  for (const [stream, ids] of entries) {
    const counts = new Map<string, number>();
    ids.forEach((id, i) => {
      const key = `${stream}/u${i % 5}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      lines.push(`${key}#${n}=${id}`);
    });
  }
  return lines.sort();
}

const countJob = (streams: string[], extra: Record<string, unknown> = {}) =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    env
      .fromSource(Sources.redisStreams({ url: server.url, streams, start: 'earliest', ...extra }), 'redis')
      .uid('redis')
      .keyBy((e) => `${e.stream}/${e.fields.user}`)
      .process(new RunningCount())
      .uid('count')
      .sinkTo(Sinks.collect<string>())
      .uid('out');
  });

describe('Sources.redisStreams: bounded', () => {
  it('reads every entry present when it opened each stream, once, then ends (3 streams on 2 subtasks)', async () => {
    const streams = keys(3);
    const entries = new Map<string, string[]>();
    for (const [i, s] of streams.entries()) entries.set(s, await append(s, 200 + i * 50));
    const driver = await testJob(countJob(streams, { end: 'bounded', batch: 64 }), { parallelism: 2, inputs: [] });
    const result = await driver.finish();
    expect(result.status).toBe('FINISHED');
    expect(driver.output<string>('out').committed.sort()).toEqual(expectedCounts(entries));
  });

  it('ends at once on empty and missing streams', async () => {
    const [empty, missing] = keys(2);
    await redis.xadd(empty, '*', 'user', 'u0');
    await redis.xdel(empty, (await redis.xrange(empty, '-', '+'))[0][0]);
    const driver = await testJob(countJob([empty, missing], { end: 'bounded' }), { parallelism: 1, inputs: [] });
    expect((await driver.finish()).status).toBe('FINISHED');
    expect(driver.output('out').committed).toEqual([]);
  });
});

describe('Sources.redisStreams: start positions', () => {
  const job = (streams: string[], start: unknown) =>
    defineJob((env) => {
      env.fromSource(Sources.redisStreams({ url: server.url, streams, start: start as never, end: 'bounded' }), 'redis').uid('redis').map((e) => e.fields.seq).uid('seq').sinkTo(Sinks.collect<string>()).uid('out');
    });

  it('afterId reads the entries after that ID; fromTimestampMs those at or after that time', async () => {
    const [s] = keys(1);
    for (const [ms, seq] of [[1000, 0], [1000, 1], [2000, 2], [3000, 3]]) await redis.xadd(s, `${ms}-${seq}`, 'seq', String(seq));
    const after = await testJob(job([s], { afterId: '1000-0' }), { inputs: [] });
    await after.finish();
    expect(after.output('out').committed).toEqual(['1', '2', '3']);
    const from = await testJob(job([s], { fromTimestampMs: 2000 }), { inputs: [] });
    await from.finish();
    expect(from.output('out').committed).toEqual(['2', '3']);
  });

  it("'latest' skips what the stream held when the reader opened it", async () => {
    const [s] = keys(1);
    await append(s, 5);
    const driver = await testJob(
      defineJob((env) => {
        env.fromSource(Sources.redisStreams({ url: server.url, streams: [s], start: 'latest', blockMs: 50 }), 'redis').uid('redis').map((e) => e.fields.seq).uid('seq').sinkTo(Sinks.collect<string>()).uid('out');
      }),
      { inputs: [] },
    );
    // The reader resolves 'latest' before its first read: once that read blocks on the server, a
    // checkpoint holds the resolved ID (seen from Redis: CLIENT LIST shows the reader's XREAD).
    await until(driver, () => false, blockedReads(1));
    const cp = await driver.checkpoint();
    await append(s, 3, 100);
    await until(driver, () => driver.output('out').written.length >= 3);
    expect(driver.output<string>('out').written).toEqual(['100', '101', '102']);
    await driver.crash();
    // Restored from before the 3 were read: they are read again (and only they).
    const restored = await testJob(
      defineJob((env) => {
        env.fromSource(Sources.redisStreams({ url: server.url, streams: [s], start: 'latest', blockMs: 50 }), 'redis').uid('redis').map((e) => e.fields.seq).uid('seq').sinkTo(Sinks.collect<string>()).uid('out');
      }),
      { inputs: [], restoreFrom: cp },
    );
    await until(restored, () => restored.output('out').written.length >= 3);
    await restored.checkpoint();
    expect(restored.output<string>('out').committed).toEqual(['100', '101', '102']);
    await restored.close();
  });
});

describe('Sources.redisStreams: unbounded, exactly once across crash and restore', () => {
  it('restores each stream at its checkpointed ID, at parallelism 2 → 3 → 1, with no entry lost or repeated', async () => {
    const streams = keys(4);
    const entries = new Map<string, string[]>(streams.map((s) => [s, []]));
    const add = async (count: number) => {
      for (const s of streams) entries.get(s)!.push(...(await append(s, count, entries.get(s)!.length)));
    };
    const total = () => [...entries.values()].reduce((n, ids) => n + ids.length, 0);
    const job = countJob(streams, { batch: 50, blockMs: 200 });

    await add(100);
    const a = await testJob(job, { parallelism: 2, inputs: [] });
    await until(a, () => a.output('out').written.length === total());
    const cp1 = await a.checkpoint();
    await add(40);
    await until(a, () => a.output('out').written.length === total());
    // A crash loses what no checkpoint committed: the 160 entries after cp1.
    await a.crash();

    const b = await testJob(job, { parallelism: 3, inputs: [], restoreFrom: cp1 });
    await add(30);
    // b re-reads from cp1's positions: 160 + 120 entries.
    await until(b, () => b.output('out').committed.length + b.output('out').uncommitted.length >= total());
    const cp2 = await b.checkpoint();
    await add(20);
    await until(b, () => b.output('out').written.length >= 280 + 80);
    await b.crash();

    const c = await testJob(job, { parallelism: 1, inputs: [], restoreFrom: cp2 });
    await until(c, () => c.output('out').committed.length + c.output('out').uncommitted.length >= total());
    await c.checkpoint();
    expect(c.output<string>('out').committed.sort()).toEqual(expectedCounts(entries));
    await c.close();
  });

  it("a handover from A to B (another parallelism) reads on from A's stop checkpoint: every entry once", async () => {
    const streams = keys(3);
    const entries = new Map<string, string[]>(streams.map((s) => [s, []]));
    const add = async (count: number) => {
      for (const s of streams) entries.get(s)!.push(...(await append(s, count, entries.get(s)!.length)));
    };
    const total = () => [...entries.values()].reduce((n, ids) => n + ids.length, 0);
    const job = countJob(streams, { batch: 20, blockMs: 50 });
    await add(30);
    const a = await testJob(job, { parallelism: 2, inputs: [] });
    await until(a, () => a.output('out').written.length === total());
    await a.checkpoint();
    await add(10);
    const b = await testJob(job, { parallelism: 3, inputs: [], handover: { from: a } });
    await add(10);
    await until(b, () => b.output('out').committed.length + b.output('out').uncommitted.length >= total());
    await b.checkpoint();
    await a.handle.done;
    expect(a.handle.status).toBe('SUSPENDED');
    expect(b.output<string>('out').committed.sort()).toEqual(expectedCounts(entries));
    await b.close();
  });

  it('takes a checkpoint at once while every read blocks on the server (wakeUp), and reads on afterwards', async () => {
    const streams = keys(2);
    // A blocking read that would outlast the test's timeout: only wakeUp lets the barrier through.
    const driver = await testJob(countJob(streams, { blockMs: 120_000 }), { parallelism: 1, inputs: [] });
    const first = await driver.checkpoint();
    const second = await driver.checkpoint();
    expect(second.id).toBe(first.id + 1);
    const entries = new Map([[streams[0], await append(streams[0], 3)], [streams[1], await append(streams[1], 2)]]);
    // The read in flight during the checkpoints delivers them.
    await until(driver, () => driver.output('out').written.length === 5);
    await driver.checkpoint();
    expect(driver.output<string>('out').committed.sort()).toEqual(expectedCounts(entries));
    await driver.close();
  });
});

describe('Sources.redisStreams: event time', () => {
  const perMinute = (streams: string[], extra: Record<string, unknown>) =>
    defineJob((env) => {
      env
        .fromSource(Sources.redisStreams({ url: server.url, streams, start: 'earliest', blockMs: 20, ...extra }), 'redis')
        .uid('redis')
        .keyBy((e) => e.fields.user)
        .window(TumblingEventTimeWindows.of(60_000))
        .aggregate({ createAccumulator: () => 0, add: (_e: RedisStreamEntry, n: number) => n + 1, getResult: (n: number) => n }, (user, window, n) => `${user}@${window.start}=${n}`)
        .uid('per-minute')
        .sinkTo(Sinks.collect<string>())
        .uid('out');
    });

  it("'entry-id': windows fire from the source's own watermarks, the lowest stream holding them back", async () => {
    const [a, b] = keys(2);
    for (const [ms, user] of [[1_000, 'ann'], [30_000, 'ann'], [59_000, 'bob'], [61_000, 'ann']] as const) await redis.xadd(a, `${ms}-0`, 'user', user);
    await redis.xadd(b, '50000-0', 'user', 'cid');
    const driver = await testJob(perMinute([a, b], { eventTime: 'entry-id' }), { parallelism: 1, inputs: [] });
    // Both readers have read all there is once both block on the server for more.
    await until(driver, () => false, blockedReads(2));
    await driver.settle();
    // a is at 61 000, b at 50 000: the watermark is 49 999, the first minute stays open.
    expect(driver.output('out').written).toEqual([]);
    await redis.xadd(b, '62000-0', 'user', 'cid');
    await until(driver, () => driver.output('out').written.length === 3);
    expect(driver.output<string>('out').written.sort()).toEqual(['ann@0=2', 'bob@0=1', 'cid@0=1']);
    await driver.close();
  });

  it('idleMs: a stream with no new entry stops holding the watermark back', async () => {
    const [a, b] = keys(2);
    for (const [ms, user] of [[1_000, 'ann'], [59_000, 'bob'], [125_000, 'ann']] as const) await redis.xadd(a, `${ms}-0`, 'user', user);
    // b's only entry is old: without idleness its watermark (499) would hold every window back (see
    // above). With it, once a stream has had no new entry for idleMs its watermark follows Redis's
    // clock (far past these IDs): idle b no longer holds a back, and idle a lets its last minute fire too.
    await redis.xadd(b, '500-0', 'user', 'cid');
    const driver = await testJob(perMinute([a, b], { eventTime: 'entry-id', idleMs: 30 }), { parallelism: 1, inputs: [] });
    await until(driver, () => driver.output('out').written.length === 4);
    expect(driver.output<string>('out').written.sort()).toEqual(['ann@0=1', 'ann@120000=1', 'bob@0=1', 'cid@0=1']);
    await driver.close();
  });

  it('{ field }: event time from a field; an entry without it fails the job naming stream and entry', async () => {
    const [s] = keys(1);
    await redis.xadd(s, '*', 'user', 'ann', 'ts', '1000');
    await redis.xadd(s, '*', 'user', 'ann', 'ts', '2024-01-01T00:01:30Z');
    const bad = await redis.xadd(s, '*', 'user', 'ann');
    const driver = await testJob(perMinute([s], { eventTime: { field: 'ts' }, end: 'bounded' }), { parallelism: 1, inputs: [] });
    const error = await driver.finish().catch((e: unknown) => e);
    // The reader's error crosses the worker boundary as itself: class, code and fields.
    expect(error).toBeInstanceOf(RedisStreamsEventTimeError);
    expect(error).toMatchObject({ code: 'BATON_ERR_REDIS_EVENT_TIME', stream: s, entryId: bad });
    expect((error as Error).message).toContain(`no event time for entry ${bad} of stream '${s}': field 'ts' is missing`);
  });
});
