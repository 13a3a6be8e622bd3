// testJob semantics: processing-time timers on the manual clock, event time and windows, checkpoints,
// crash and restore (exactly once, at another parallelism, into a changed job), and typed errors.
import { describe, expect, it } from 'vitest';
import {
  type Collector,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type OnTimerContext,
  Sinks,
  Sources,
  TumblingEventTimeWindows,
  type ValueState,
  WatermarkStrategy,
} from '../../src/index.ts';
import { TestDriverStateError, testJob, UnknownTestTargetError } from '../../src/testing/index.ts';

interface Event {
  readonly user: string;
  readonly at: number;
}

/** Counts per user; 10 s of processing time after a user's first event, emits the count and clears it. */
class SessionCount extends KeyedProcessFunction<string, Event, string> {
  private count!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(_e: Event, ctx: KeyedProcessContext<string>, _out: Collector<string>): void {
    const n = this.count.value() ?? 0;
    if (n === 0) ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 10_000);
    this.count.update(n + 1);
  }
  override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.key}:${this.count.value()}@${timestamp}`);
    this.count.clear();
  }
}

const sessions = defineJob((env) => {
  env.fromSource(Sources.elements<Event>([]), 'events').uid('events').keyBy((e) => e.user).process(new SessionCount()).uid('sessions').sinkTo(Sinks.collect()).uid('out');
});

const perMinute = defineJob((env) => {
  env
    .fromSource(Sources.elements<Event>([]), 'events')
    .uid('events')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Event>(1_000).withTimestampAssigner((e) => e.at))
    .uid('event-time')
    .keyBy((e) => e.user)
    .window(TumblingEventTimeWindows.of(60_000))
    .aggregate(
      { createAccumulator: () => 0, add: (_e: Event, n: number) => n + 1, getResult: (n: number) => n },
      (user, window, count) => `${user}@${window.start}=${count}`,
    )
    .uid('per-minute')
    .sinkTo(Sinks.collect())
    .uid('out');
});

/** Event-time timers on the source's own watermarks (no assigner): fires when the test advances the watermark. */
class Deadline extends KeyedProcessFunction<string, Event, string> {
  processElement(e: Event, ctx: KeyedProcessContext<string>): void {
    ctx.timerService.registerEventTimeTimer(e.at + 5_000);
  }
  override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.key}@${timestamp}`);
  }
}
const deadlines = defineJob((env) => {
  env.fromSource(Sources.elements<Event>([]), 'events').uid('events').keyBy((e) => e.user).process(new Deadline()).uid('deadline').sinkTo(Sinks.collect()).uid('out');
});

/** A running count per user: output depends on every earlier record, so a lost or repeated one shows. */
class RunningCount extends KeyedProcessFunction<string, Event, string> {
  private count!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(e: Event, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(`${ctx.key}#${n}@${e.at}`);
  }
}
const countJob = (mode: 'aligned' | 'unaligned') =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000, mode });
    env.fromSource(Sources.elements<Event>([]), 'events').uid('events').keyBy((e) => e.user).process(new RunningCount()).uid('count').sinkTo(Sinks.collect()).uid('out');
  });

const events = (n: number, offset = 0): Event[] => Array.from({ length: n }, (_, i) => ({ user: `u${(i + offset) % 7}`, at: (i + offset) * 100 }));

describe('testJob: time', () => {
  it('fires processing-time timers exactly when the test moves the clock past them', async () => {
    const driver = await testJob(sessions, { parallelism: 2, startTime: 1_000 });
    await driver.input<Event>('events').pushAll([{ user: 'ann', at: 0 }, { user: 'bob', at: 0 }, { user: 'ann', at: 0 }]);
    await driver.advanceProcessingTime(9_999);
    expect(driver.output('out').written).toEqual([]);
    await driver.advanceProcessingTime(1);
    expect(driver.output<string>('out').written.sort()).toEqual(['ann:2@11000', 'bob:1@11000']);
    expect(await driver.valueState('sessions', 'count', 'ann')).toBeUndefined();
    await driver.close();
  });

  it('fires event-time windows as the watermark derived from the pushed timestamps passes them', async () => {
    const driver = await testJob(perMinute, { parallelism: 2 });
    const input = driver.input<Event>('events');
    await input.pushAll([{ user: 'ann', at: 1_000 }, { user: 'ann', at: 30_000 }, { user: 'bob', at: 59_000 }]);
    expect(driver.output('out').written).toEqual([]);
    // The source (parallelism 1, as every elements source) rebalances to two assigners: the window's
    // watermark is the lower of theirs, so each needs a record past the minute. With 61 000 and 62 000
    // it is 61 000 - 1 000 (out-of-orderness) - 1 = 59 999: the first minute is complete.
    await input.push({ user: 'cid', at: 61_000 });
    expect(driver.output('out').written).toEqual([]);
    await input.push({ user: 'dan', at: 62_000 });
    expect(driver.output<string>('out').written.sort()).toEqual(['ann@0=2', 'bob@0=1']);
    const result = await driver.finish();
    expect(result.status).toBe('FINISHED');
    expect(driver.output<string>('out').committed.sort()).toEqual(['ann@0=2', 'bob@0=1', 'cid@60000=1', 'dan@60000=1']);
  });

  it('advances an input watermark for jobs whose event time comes from the source', async () => {
    const driver = await testJob(deadlines, { parallelism: 3 });
    const input = driver.input<Event>('events');
    await input.pushTimed([{ value: { user: 'ann', at: 1_000 }, timestamp: 1_000 }, { value: { user: 'bob', at: 2_000 }, timestamp: 2_000 }]);
    await input.advanceWatermark(5_999);
    expect(driver.output<string>('out').written).toEqual([]);
    await input.advanceWatermark(6_000);
    expect(driver.output<string>('out').written).toEqual(['ann@6000']);
    await input.advanceWatermark(7_000);
    expect(driver.output<string>('out').written.sort()).toEqual(['ann@6000', 'bob@7000']);
    await driver.close();
  });
});

describe('testJob: sources with several splits', () => {
  it('reads every partition of an input and holds the watermark at the lowest partition', async () => {
    const driver = await testJob(deadlines, { parallelism: 1, inputs: { events: { partitions: 2 } } });
    const input = driver.input<Event>('events');
    await input.pushTimed([{ value: { user: 'ann', at: 1_000 }, timestamp: 1_000 }], { partition: 0 });
    await input.pushTimed([{ value: { user: 'bob', at: 1_500 }, timestamp: 1_500 }], { partition: 1 });
    // Partition 0 is at 10 000, partition 1 still at nothing: the source's watermark does not move.
    await input.advanceWatermark(10_000, { partition: 0 });
    expect(driver.output('out').written).toEqual([]);
    await input.advanceWatermark(6_000, { partition: 1 });
    expect(driver.output<string>('out').written).toEqual(['ann@6000']);
    // Partition 1 at 7 000, partition 0 at 10 000: the lowest, 7 000, passes bob's timer.
    await input.advanceWatermark(7_000, { partition: 1 });
    expect(driver.output<string>('out').written).toEqual(['ann@6000', 'bob@6500']);
    await driver.close();
  });
});

describe('testJob: checkpoints and restore', () => {
  for (const [mode, restoredParallelism] of [['aligned', 3], ['unaligned', 2]] as const) {
    it(`${mode}: a crash after a checkpoint and a restore (parallelism 2 -> ${restoredParallelism}) commit exactly the uninterrupted output`, async () => {
      const all = events(60);
      // Uninterrupted run.
      const whole = await testJob(countJob(mode), { parallelism: 2 });
      await whole.input<Event>('events').pushAll(all);
      await whole.finish();
      const expected = whole.output<string>('out').committed.sort();
      expect(expected).toHaveLength(60);

      // Interrupted: 25 records, checkpoint, 20 more, crash; the restored driver reads on from the
      // checkpoint (the 20 again, as a log replays them) at another parallelism where the mode allows.
      const first = await testJob(countJob(mode), { parallelism: 2 });
      await first.input<Event>('events').pushAll(all.slice(0, 25));
      const cp = await first.checkpoint();
      await first.input<Event>('events').pushAll(all.slice(25, 45));
      expect(first.output('out').uncommitted).toHaveLength(20);
      await first.crash();
      const second = await testJob(countJob(mode), { parallelism: restoredParallelism, restoreFrom: cp });
      // u0 had 4 records in the checkpoint (0, 7, 14, 21) and 3 replayed (28, 35, 42).
      expect(await second.valueState('count', 'count', 'u0')).toBe(7);
      await second.input<Event>('events').pushAll(all.slice(45));
      await second.finish();
      expect(second.output<string>('out').committed.sort()).toEqual(expected);
    });
  }

  it('restores into a changed job: state of the kept operators carries over', async () => {
    const v1 = await testJob(countJob('aligned'), { parallelism: 1 });
    await v1.input<Event>('events').pushAll(events(14));
    const cp = await v1.checkpoint();
    await v1.close();
    const v2job = defineJob((env) => {
      env.enableCheckpointing({ intervalMs: 1_000 });
      env
        .fromSource(Sources.elements<Event>([]), 'events')
        .uid('events')
        .filter((e) => e.user !== 'u6')
        .uid('drop-u6')
        .keyBy((e) => e.user)
        .process(new RunningCount())
        .uid('count')
        .sinkTo(Sinks.collect())
        .uid('out');
    });
    const v2 = await testJob(v2job, { parallelism: 2, restoreFrom: cp });
    await v2.input<Event>('events').pushAll([{ user: 'u0', at: 9_000 }, { user: 'u6', at: 9_100 }]);
    expect(v2.output<string>('out').written).toEqual(['u0#3@9000']);
    await v2.close();
  });
});

describe('testJob: errors', () => {
  it('names unknown inputs, outputs and operators', async () => {
    const driver = await testJob(sessions);
    expect(() => driver.input('evnets')).toThrow(UnknownTestTargetError);
    expect(() => driver.output('outt')).toThrow(/has no output 'outt' \(it has: 'out'\)/);
    await expect(driver.valueState('nope', 'count', 'x')).rejects.toThrow(UnknownTestTargetError);
    await driver.close();
    await expect(driver.input('events').push({ user: 'a', at: 0 })).rejects.toThrow(TestDriverStateError);
  });

  it("rejects the step with the job's own error when a user function throws", async () => {
    const failing = defineJob((env) => {
      env
        .fromSource(Sources.elements<number>([]), 'numbers')
        .uid('numbers')
        .map((n) => {
          if (n === 3) throw new Error('three is not allowed');
          return n;
        })
        .uid('check')
        .sinkTo(Sinks.collect())
        .uid('out');
    });
    const driver = await testJob(failing);
    await driver.input<number>('numbers').pushAll([1, 2]);
    await expect(driver.input<number>('numbers').push(3)).rejects.toThrow(/three is not allowed/);
  });
});
