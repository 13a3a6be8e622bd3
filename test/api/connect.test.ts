// connect: non-keyed CoProcessFunction (and co-map / co-flatMap), keyed connect sharing state and
// timers, the combined watermark of two inputs, unions on either side, restore at another parallelism.
import { describe, expect, it } from 'vitest';
import {
  type Collector,
  type CoProcessContext,
  CoProcessFunction,
  defineJob,
  KeyedCoProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type OnTimerContext,
  OutputTag,
  Sinks,
  Sources,
  type ValueState,
} from '../../src/index.ts';
import { planJob } from '../../src/runtime/graph/plan.ts';
import { testJob } from '../../src/testing/index.ts';

interface Order {
  readonly id: string;
  readonly amount: number;
}
interface Payment {
  readonly order: string;
  readonly paid: number;
}

const refused = new OutputTag<number>('refused');

/** Tags each record with its input; negative numbers of input 2 go to a side output. */
class Label extends CoProcessFunction<number, number, string> {
  processElement1(n: number, ctx: CoProcessContext, out: Collector<string>): void {
    out.collect(`a${n}@${ctx.timestamp ?? '-'}`);
  }
  processElement2(n: number, ctx: CoProcessContext, out: Collector<string>): void {
    if (n < 0) ctx.output(refused, n);
    else out.collect(`b${n}`);
  }
}

const labelled = defineJob((env) => {
  const a = env.fromSource(Sources.elements<number>([]), 'a').uid('a');
  const b = env.fromSource(Sources.elements<number>([]), 'b').uid('b');
  const c = env.fromSource(Sources.elements<number>([]), 'c').uid('c');
  // The first input is a union: its two graph inputs must both reach processElement1.
  const out = a.union(c).connect(b).process(new Label()).uid('label');
  out.sinkTo(Sinks.collect()).uid('out');
  out.getSideOutput(refused).sinkTo(Sinks.collect()).uid('refused');
});

describe('connect (non-keyed)', () => {
  it('routes each input to its own method, a union on the first side included; side outputs work', async () => {
    const driver = await testJob(labelled, { parallelism: 2 });
    await driver.input<number>('a').push(1, { timestamp: 10 });
    await driver.input<number>('b').pushAll([2, -3]);
    await driver.input<number>('c').push(4);
    await driver.checkpoint();
    expect(driver.output<string>('out').committed.sort()).toEqual(['a1@10', 'a4@-', 'b2']);
    expect(driver.output<number>('refused').committed).toEqual([-3]);
    await driver.close();
  });

  it('a two-input node heads its own task and is told apart from a union by its second input', () => {
    const graph = labelled.buildGraph({ parallelism: 2, maxParallelism: 128, params: {} });
    const node = graph.nodes.find((n) => n.uid === 'label')!;
    expect(node.type).toBe('co-process');
    expect(node.inputs.map((i) => i.second === true)).toEqual([false, false, true]);
    const plan = planJob(graph);
    const task = plan.tasks.find((t) => t.operators[0].uid === 'label')!;
    expect(task.inputs.map((e) => e.inputIndex)).toEqual([0, 1, 2]);
    // A union feeding a one-input operator has no second input.
    const union = defineJob((env) => {
      const a = env.fromSource(Sources.elements<number>([]), 'a').uid('a');
      a.union(env.fromSource(Sources.elements<number>([]), 'b').uid('b')).map((n) => n).uid('m').sinkTo(Sinks.collect()).uid('out');
    }).buildGraph({ parallelism: 1, maxParallelism: 128, params: {} });
    expect(union.nodes.find((n) => n.uid === 'm')!.inputs.some((i) => i.second)).toBe(false);
  });

  it('co-map and co-flatMap: one function per input into one type', async () => {
    const job = defineJob((env) => {
      const orders = env.fromSource(Sources.elements<Order>([]), 'orders').uid('orders');
      const payments = env.fromSource(Sources.elements<Payment>([]), 'payments').uid('payments');
      orders.connect(payments).map((o) => o.amount, (p) => -p.paid).uid('signed').sinkTo(Sinks.collect()).uid('signed-out');
      orders
        .connect(payments)
        .flatMap<string>(
          (o, out) => {
            for (let i = 0; i < o.amount; i++) out.collect(o.id);
          },
          (p, out) => out.collect(`paid ${p.order}`),
        )
        .uid('expanded')
        .sinkTo(Sinks.collect())
        .uid('expanded-out');
    });
    const driver = await testJob(job);
    await driver.input<Order>('orders').push({ id: 'o1', amount: 2 });
    await driver.input<Payment>('payments').push({ order: 'o1', paid: 2 });
    expect(driver.output<number>('signed-out').written.sort()).toEqual([-2, 2]);
    expect(driver.output<string>('expanded-out').written.sort()).toEqual(['o1', 'o1', 'paid o1']);
    await driver.close();
  });

  it('the context reads the watermark, the minimum of both inputs, and processing time', async () => {
    class Time extends CoProcessFunction<number, number, string> {
      processElement1(n: number, ctx: CoProcessContext, out: Collector<string>): void {
        out.collect(`a${n} wm=${ctx.currentWatermark()} pt=${ctx.currentProcessingTime()}`);
      }
      processElement2(n: number, ctx: CoProcessContext, out: Collector<string>): void {
        out.collect(`b${n} wm=${ctx.currentWatermark()}`);
      }
    }
    const job = defineJob((env) => {
      const a = env.fromSource(Sources.elements<number>([]), 'a').uid('a');
      const b = env.fromSource(Sources.elements<number>([]), 'b').uid('b');
      a.connect(b).process(new Time()).uid('time').sinkTo(Sinks.collect()).uid('out');
    });
    const driver = await testJob(job, { startTime: 5_000 });
    await driver.input<number>('a').push(1);
    await driver.input<number>('a').advanceWatermark(300);
    await driver.input<number>('b').advanceWatermark(200);
    await driver.input<number>('b').push(2);
    await driver.input<number>('b').advanceWatermark(400);
    await driver.input<number>('a').push(3);
    expect(driver.output<string>('out').written).toEqual(['a1 wm=-Infinity pt=5000', 'b2 wm=200', 'a3 wm=300 pt=5000']);
    await driver.close();
  });

  it('refuses what is not a CoProcessFunction or a stream', () => {
    const build = (f: (env: Parameters<Parameters<typeof defineJob>[0]>[0]) => void) => () => defineJob(f).buildGraph({ parallelism: 1, maxParallelism: 128, params: {} });
    expect(build((env) => env.fromElements(1).connect(env.fromElements(2)).process({} as never))).toThrow(/CoProcessFunction/);
    expect(build((env) => env.fromElements(1).connect({} as never))).toThrow(/DataStream or a BroadcastStream/);
    expect(build((env) => env.fromElements(1).keyBy((n) => n).connect(env.fromElements(2) as never))).toThrow(/keyed stream connects/);
    expect(build((env) => env.fromElements(1).connect(env.fromElements(2)).keyBy((n) => n, 'x' as never))).toThrow(/second selector/);
  });
});

/** Orders wait for their payment (and payments for their order) in shared per-key state; an event-time timer reports unpaid orders. */
class Match extends KeyedCoProcessFunction<string, Order, Payment, string> {
  private order!: ValueState<Order>;
  private paid!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.order = ctx.valueState<Order>('order');
    this.paid = ctx.valueState<number>('paid');
  }

  processElement1(o: Order, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const paid = this.paid.value();
    if (paid !== undefined) {
      out.collect(`${ctx.key} paid ${paid}/${o.amount}`);
      this.paid.clear();
      return;
    }
    this.order.update(o);
    if (ctx.timestamp !== undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp + 100);
  }

  processElement2(p: Payment, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const order = this.order.value();
    if (order === undefined) {
      this.paid.update(p.paid);
      return;
    }
    out.collect(`${ctx.key} paid ${p.paid}/${order.amount}`);
    this.order.clear();
  }

  override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    if (this.order.value() !== undefined) out.collect(`${ctx.key} unpaid at ${timestamp} (wm ${ctx.timerService.currentWatermark()})`);
  }
}

const matching = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  const orders = env.fromSource(Sources.elements<Order>([]), 'orders').uid('orders');
  const payments = env.fromSource(Sources.elements<Payment>([]), 'payments').uid('payments');
  orders
    .keyBy((o) => o.id)
    .connect(payments.keyBy((p) => p.order))
    .process(new Match())
    .uid('match')
    .sinkTo(Sinks.collect())
    .uid('out');
});

describe('connect (keyed)', () => {
  it('both inputs share the key state, whichever arrives first, across subtasks', async () => {
    const driver = await testJob(matching, { parallelism: 3 });
    const ids = Array.from({ length: 12 }, (_, i) => `o${i}`);
    await driver.input<Order>('orders').pushAll(ids.slice(0, 6).map((id, i) => ({ id, amount: i })));
    await driver.input<Payment>('payments').pushAll(ids.map((order, i) => ({ order, paid: i })));
    await driver.input<Order>('orders').pushAll(ids.slice(6).map((id, i) => ({ id, amount: i + 6 })));
    expect(driver.output<string>('out').written.sort()).toEqual(ids.map((id, i) => `${id} paid ${i}/${i}`).sort());
    expect(await driver.valueState('match', 'order', 'o3')).toBeUndefined();
    await driver.close();
  });

  it('event time is the minimum of both inputs: a timer fires only once both watermarks passed it', async () => {
    const driver = await testJob(matching, { parallelism: 2 });
    await driver.input<Order>('orders').push({ id: 'late', amount: 5 }, { timestamp: 1_000 });
    await driver.input<Order>('orders').advanceWatermark(5_000);
    expect(driver.output('out').written).toEqual([]);
    await driver.input<Payment>('payments').advanceWatermark(1_099);
    expect(driver.output('out').written).toEqual([]);
    await driver.input<Payment>('payments').advanceWatermark(1_100);
    expect(driver.output('out').written).toEqual(['late unpaid at 1100 (wm 1100)']);
    await driver.close();
  });

  it('state and timers survive a crash and a restore at another parallelism', async () => {
    const a = await testJob(matching, { parallelism: 2 });
    await a.input<Order>('orders').pushTimed([
      { value: { id: 'x', amount: 1 }, timestamp: 100 },
      { value: { id: 'y', amount: 2 }, timestamp: 200 },
    ]);
    await a.input<Payment>('payments').push({ order: 'z', paid: 7 });
    const cp = await a.checkpoint();
    // After the checkpoint: replayed after the restore, nothing of it committed twice.
    await a.input<Payment>('payments').push({ order: 'x', paid: 1 });
    await a.crash();
    for (const parallelism of [3, 1]) {
      const b = await testJob(matching, { parallelism, restoreFrom: cp });
      await b.input<Order>('orders').push({ id: 'z', amount: 7 });
      await b.input<Order>('orders').advanceWatermark(10_000);
      await b.input<Payment>('payments').advanceWatermark(10_000);
      expect(b.output<string>('out').written.sort()).toEqual(['x paid 1/1', 'y unpaid at 300 (wm 10000)', 'z paid 7/7']);
      await b.close();
    }
  });
});

describe('keyed side outputs', () => {
  it('getSideOutput(tag).keyBy(...) keys the side output, not the main output (also as a connected input)', async () => {
    const odd = new OutputTag<number>('odd');
    class Split extends KeyedCoProcessFunction<number, number, number, number> {
      processElement1(n: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
        if (n % 2 === 0) out.collect(n);
        else ctx.output(odd, n);
      }
      processElement2(n: number, _ctx: KeyedProcessContext<number>, out: Collector<number>): void {
        out.collect(-n);
      }
    }
    const job = defineJob((env) => {
      const a = env.fromSource(Sources.elements<number>([]), 'a').uid('a');
      const b = env.fromSource(Sources.elements<number>([]), 'b').uid('b');
      const split = a.keyBy((n) => n).connect(b.keyBy((n) => n)).process(new Split()).uid('split');
      split.sinkTo(Sinks.collect()).uid('main');
      split.getSideOutput(odd).keyBy((n) => n % 2).reduce((x, y) => x + y).uid('odd-sum').sinkTo(Sinks.collect()).uid('odd');
    });
    const driver = await testJob(job, { parallelism: 2 });
    await driver.input<number>('a').pushAll([1, 2, 3, 4]);
    await driver.input<number>('b').push(5);
    expect(driver.output<number>('main').written.sort((x, y) => x - y)).toEqual([-5, 2, 4]);
    expect(driver.output<number>('odd').written).toEqual([1, 4]);
    await driver.close();
  });
});
