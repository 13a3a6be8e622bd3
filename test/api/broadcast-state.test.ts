// Broadcast state in testJob: rules reach every parallel instance and apply to later events (keyed
// and non-keyed), processElement reads only, timers read broadcast state, and the state is
// checkpointed and restored at another parallelism (every new subtask gets a copy).
import { describe, expect, it } from 'vitest';
import {
  type BroadcastContext,
  BroadcastProcessFunction,
  BroadcastStateDescriptor,
  type Collector,
  defineJob,
  type KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
  type KeyedReadOnlyBroadcastContext,
  type KeyedRuntimeContext,
  type ReadOnlyBroadcastContext,
  Sinks,
  Sources,
  type ValueState,
} from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';

interface Reading {
  readonly sensor: string;
  readonly value: number;
}
type Limit = readonly [sensor: string, max: number];

const limits = new BroadcastStateDescriptor<string, number>('limits');
const undeclared = new BroadcastStateDescriptor<string, number>('other');

/** Per sensor: counts readings in keyed state; a reading above the sensor's broadcast limit is an alert. */
class Alert extends KeyedBroadcastProcessFunction<string, Reading, Limit, string> {
  private seen!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.seen = ctx.valueState<number>('seen');
  }
  processElement(r: Reading, ctx: KeyedReadOnlyBroadcastContext<string>, out: Collector<string>): void {
    const n = (this.seen.value() ?? 0) + 1;
    this.seen.update(n);
    const max = ctx.getBroadcastState(limits).get(r.sensor);
    if (max === undefined) out.collect(`${ctx.key}#${n} no limit`);
    else if (r.value > max) out.collect(`${ctx.key}#${n} ${r.value}>${max}`);
    if (ctx.timestamp !== undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp + 10);
  }
  processBroadcastElement([sensor, max]: Limit, ctx: BroadcastContext): void {
    if (max < 0) ctx.getBroadcastState(limits).remove(sensor);
    else ctx.getBroadcastState(limits).put(sensor, max);
  }
  override onTimer(timestamp: number, ctx: KeyedBroadcastOnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.key}@${timestamp} limit ${ctx.getBroadcastState(limits).get(ctx.key) ?? 'none'}`);
  }
}

const alerts = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  const readings = env.fromSource(Sources.elements<Reading>([]), 'readings').uid('readings');
  const rules = env.fromSource(Sources.elements<Limit>([]), 'limits').uid('limits').broadcast(limits);
  readings.keyBy((r) => r.sensor).connect(rules).process(new Alert()).uid('alert').sinkTo(Sinks.collect()).uid('out');
});

const SENSORS = Array.from({ length: 12 }, (_, i) => `s${i}`);

describe('broadcast state (keyed)', () => {
  it('every parallel instance gets every rule; rules apply to later events, updates and removals too', async () => {
    const driver = await testJob(alerts, { parallelism: 3 });
    await driver.input<Limit>('limits').pushAll(SENSORS.map((s, i): Limit => [s, i]));
    await driver.input<Reading>('readings').pushAll(SENSORS.map((sensor, i) => ({ sensor, value: i + 1 })));
    await driver.checkpoint();
    const first = [...driver.output<string>('out').committedRecords];
    expect(first.map((r) => r.value).sort()).toEqual(SENSORS.map((s, i) => `${s}#1 ${i + 1}>${i}`).sort());
    // The sensors live on all three subtasks: each had the rules.
    expect([...new Set(first.map((r) => r.subtaskIndex))].sort()).toEqual([0, 1, 2]);
    await driver.input<Limit>('limits').pushAll([
      ['s0', 100],
      ['s1', -1],
    ]);
    await driver.input<Reading>('readings').pushAll([
      { sensor: 's0', value: 50 },
      { sensor: 's1', value: 50 },
      { sensor: 's2', value: 50 },
    ]);
    expect(driver.output<string>('out').written.slice(first.length).sort()).toEqual(['s1#2 no limit', 's2#2 50>2']);
    await driver.close();
  });

  it('broadcast state and keyed state and timers are restored at another parallelism: each new subtask gets a copy', async () => {
    for (const [from, to] of [
      [2, 3],
      [3, 1],
      [1, 4],
    ] as const) {
      const a = await testJob(alerts, { parallelism: from });
      await a.input<Limit>('limits').pushAll(SENSORS.map((s, i): Limit => [s, i * 10]));
      await a.input<Reading>('readings').pushTimed(SENSORS.map((sensor) => ({ value: { sensor, value: 0 }, timestamp: 100 })));
      const cp = await a.checkpoint();
      // After the checkpoint: lost with the crash, replayed from the input log after the restore.
      await a.input<Limit>('limits').push(['s0', 1_000]);
      await a.crash();
      const b = await testJob(alerts, { parallelism: to, restoreFrom: cp });
      // The replayed rule is processed before the readings that follow.
      await b.settle();
      await b.input<Reading>('readings').pushAll(SENSORS.map((sensor) => ({ sensor, value: 5 })));
      await b.input<Reading>('readings').advanceWatermark(110);
      await b.input<Limit>('limits').advanceWatermark(110);
      await b.checkpoint();
      const out = b.output<string>('out').committedRecords;
      // s0's limit 0 was raised to 1000 by the replayed rule, so its 5 is no alert; the other limits
      // (10, 20, ...) came from the checkpoint's copy. The timers of the readings before it fire.
      const expected = ['s0@110 limit 1000', ...SENSORS.slice(1).map((s, i) => `${s}@110 limit ${(i + 1) * 10}`)];
      expect(out.map((r) => r.value).sort(), `${from} -> ${to}`).toEqual(expected.sort());
      expect([...new Set(out.map((r) => r.subtaskIndex))].sort(), `${from} -> ${to}`).toEqual(Array.from({ length: to }, (_, i) => i));
      expect(await b.valueState('alert', 'seen', 's3')).toBe(2);
      await b.close();
    }
  });

  it('processElement cannot write broadcast state, and an undeclared state is refused (typed, coded errors)', async () => {
    class Writer extends KeyedBroadcastProcessFunction<string, Reading, Limit, string> {
      processElement(r: Reading, ctx: KeyedReadOnlyBroadcastContext<string>): void {
        (ctx.getBroadcastState(limits) as unknown as { put(k: string, v: number): void }).put(r.sensor, 1);
      }
      processBroadcastElement(): void {}
    }
    class Undeclared extends KeyedBroadcastProcessFunction<string, Reading, Limit, string> {
      processElement(): void {}
      processBroadcastElement(_l: Limit, ctx: BroadcastContext): void {
        ctx.getBroadcastState(undeclared).put('x', 1);
      }
    }
    const job = (fn: KeyedBroadcastProcessFunction<string, Reading, Limit, string>) =>
      defineJob((env) => {
        const readings = env.fromSource(Sources.elements<Reading>([]), 'readings').uid('readings');
        const rules = env.fromSource(Sources.elements<Limit>([]), 'limits').uid('limits').broadcast(limits);
        readings.keyBy((r) => r.sensor).connect(rules).process(fn).uid('alert').sinkTo(Sinks.collect()).uid('out');
      });
    const writer = await testJob(job(new Writer()));
    await expect(writer.input<Reading>('readings').push({ sensor: 's', value: 1 })).rejects.toThrow(/operator 'alert'.*BATON_ERR_BROADCAST_STATE_READ_ONLY.*'limits'/s);
    await writer.close();
    const unknown = await testJob(job(new Undeclared()));
    await expect(unknown.input<Limit>('limits').push(['s', 1])).rejects.toThrow(/BATON_ERR_UNKNOWN_BROADCAST_STATE.*'other'.*declared: limits/s);
    await unknown.close();
  });

  it('refuses a bad descriptor, a duplicate state name and a function without processBroadcastElement', () => {
    const build = (f: (env: Parameters<Parameters<typeof defineJob>[0]>[0]) => void) => () => defineJob(f).buildGraph({ parallelism: 1, maxParallelism: 128, params: {} });
    expect(() => new BroadcastStateDescriptor('')).toThrow(/BroadcastStateDescriptor name/);
    expect(build((env) => env.fromElements(1).broadcast({ name: 'x' } as never))).toThrow(/expected BroadcastStateDescriptor/);
    expect(build((env) => env.fromElements(1).broadcast(limits, new BroadcastStateDescriptor('limits')))).toThrow(/'limits' is declared twice/);
    expect(build((env) => env.fromElements(1).keyBy((n) => n).connect(env.fromElements(2).broadcast(limits)).process({ processElement() {} } as never))).toThrow(/processBroadcastElement/);
    // A keyed broadcast operator is keyed; its broadcast input is the one input that is not hash-partitioned.
    const graph = alerts.buildGraph({ parallelism: 2, maxParallelism: 128, params: {} });
    const node = graph.nodes.find((n) => n.uid === 'alert')!;
    expect(node.keyed).toBe(true);
    expect(node.inputs.map((i) => [i.partitioning, i.second === true])).toEqual([
      ['hash', false],
      ['broadcast', true],
    ]);
  });
});

/** Non-keyed: readings rebalanced over the subtasks, each with its copy of the limits. */
class Flag extends BroadcastProcessFunction<Reading, Limit, string> {
  processElement(r: Reading, ctx: ReadOnlyBroadcastContext, out: Collector<string>): void {
    const state = ctx.getBroadcastState(limits);
    out.collect(`${r.sensor}:${r.value > (state.get(r.sensor) ?? Number.POSITIVE_INFINITY) ? 'high' : 'ok'} (${state.size} limits)`);
  }
  processBroadcastElement([sensor, max]: Limit, ctx: BroadcastContext): void {
    ctx.getBroadcastState(limits).put(sensor, max);
  }
}

const flags = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  const readings = env.fromSource(Sources.elements<Reading>([]), 'readings').uid('readings');
  const rules = env.fromSource(Sources.elements<Limit>([]), 'limits').uid('limits').broadcast(limits);
  readings.rebalance().connect(rules).process(new Flag()).uid('flag').sinkTo(Sinks.collect()).uid('out');
});

describe('broadcast state (non-keyed)', () => {
  it('rules reach every subtask; restored at another parallelism, every subtask has them', async () => {
    const a = await testJob(flags, { parallelism: 2 });
    await a.input<Limit>('limits').pushAll([
      ['a', 1],
      ['b', 2],
    ]);
    await a.input<Reading>('readings').pushAll(Array.from({ length: 6 }, (_, i) => ({ sensor: i % 2 ? 'a' : 'b', value: i })));
    const cp = await a.checkpoint();
    const before = [...a.output<string>('out').committedRecords];
    expect(before.map((r) => r.value).sort()).toEqual(['a:ok (2 limits)', 'a:high (2 limits)', 'a:high (2 limits)', 'b:ok (2 limits)', 'b:ok (2 limits)', 'b:high (2 limits)'].sort());
    expect([...new Set(before.map((r) => r.subtaskIndex))].sort()).toEqual([0, 1]);
    await a.crash();
    const b = await testJob(flags, { parallelism: 3, restoreFrom: cp });
    await b.input<Reading>('readings').pushAll(Array.from({ length: 9 }, () => ({ sensor: 'b', value: 3 })));
    await b.checkpoint();
    const after = b.output<string>('out').committedRecords.slice(before.length);
    expect(after.map((r) => r.value)).toEqual(Array.from({ length: 9 }, () => 'b:high (2 limits)'));
    expect([...new Set(after.map((r) => r.subtaskIndex))].sort()).toEqual([0, 1, 2]);
    await b.close();
  });
});
