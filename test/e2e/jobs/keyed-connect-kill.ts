// Keyed connect on threads: orders and payments (two inputs keyed by order id) meet in shared keyed
// state whichever comes first; an event-time timer reports orders left unpaid. A worker thread is
// killed once at a chosen record.
import { existsSync, writeFileSync } from 'node:fs';
import {
  type Collector,
  defineJob,
  KeyedCoProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type OnTimerContext,
  Sinks,
  type ValueState,
  WatermarkStrategy,
} from 'baton';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';

/** Orders are the odd numbers; the even numbers of block b + 1 pay the orders of block b, in a shuffled order. */
export const BLOCK = 20;
/** An order still unpaid this long (event time = the number) after it is reported. */
export const PAY_WITHIN = 100;

/** The order an even number pays, or undefined when it pays none (some orders stay unpaid). */
export function paidOrder(n: number): number | undefined {
  const m = n / 2;
  const block = Math.floor(m / BLOCK);
  if (block === 0) return undefined;
  // 7 is coprime with BLOCK: i -> 7i mod BLOCK permutes the block, so each order is paid at most once.
  const index = (7 * (m % BLOCK)) % BLOCK;
  if (index % 6 === 0) return undefined;
  return 2 * (BLOCK * (block - 1) + index) + 1;
}

export interface Payment {
  readonly order: number;
  readonly amount: number;
}

export const amountOf = (order: number): number => order % 97;

export class MatchPayments extends KeyedCoProcessFunction<number, number, Payment, string> {
  private order!: ValueState<number>;
  private paid!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.order = ctx.valueState<number>('order');
    this.paid = ctx.valueState<number>('paid');
  }

  processElement1(order: number, ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    const paid = this.paid.value();
    if (paid !== undefined) {
      out.collect(`paid,${order},${paid}`);
      this.paid.clear();
      return;
    }
    this.order.update(amountOf(order));
    ctx.timerService.registerEventTimeTimer(order + PAY_WITHIN);
  }

  processElement2(payment: Payment, _ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    if (this.order.value() === undefined) {
      this.paid.update(payment.amount);
      return;
    }
    out.collect(`paid,${payment.order},${payment.amount}`);
    this.order.clear();
  }

  override onTimer(timestamp: number, ctx: OnTimerContext<number>, out: Collector<string>): void {
    if (this.order.value() === undefined) return;
    out.collect(`unpaid,${ctx.key},${timestamp}`);
    this.order.clear();
  }
}

/** Every line an uninterrupted run over 1..to commits, sorted. */
export function expectedLines(to: number): string[] {
  const paid = new Set<number>();
  for (let n = 2; n <= to; n += 2) {
    const order = paidOrder(n);
    if (order !== undefined) paid.add(order);
  }
  const lines: string[] = [];
  for (let order = 1; order <= to; order += 2) lines.push(paid.has(order) ? `paid,${order},${amountOf(order)}` : `unpaid,${order},${order + PAY_WITHIN}`);
  return lines.sort();
}

function crashOnce(at: number, marker: string): (n: number) => number {
  return (n) => {
    if (n === at && !existsSync(marker)) {
      writeFileSync(marker, `crashed at ${n}`);
      process.exit(17);
    }
    return n;
  };
}

export default defineJob((env) => {
  const p = env.params;
  env.setAutoWatermarkInterval(0);
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 30), retain: 3, tolerableFailures: 100 });
  let numbers = env
    .fromSource(pacedSequence({ from: 1, to: Number(p.to), segment: Number(p.segment ?? 250), signals: String(p.pacedBy) }), 'numbers')
    .setParallelism(1)
    .uid('numbers');
  if (p.crashAt !== undefined) numbers = numbers.map(crashOnce(Number(p.crashAt), String(p.crashMarker))).setParallelism(1).uid('crash');
  const timed = numbers
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n))
    .setParallelism(1)
    .uid('event-time');
  const orders = timed.filter((n) => n % 2 === 1).setParallelism(1).uid('orders');
  const payments = timed
    .flatMap<Payment>((n, out) => {
      if (n % 2 !== 0) return;
      const order = paidOrder(n);
      if (order !== undefined) out.collect({ order, amount: amountOf(order) });
    })
    .setParallelism(1)
    .uid('payments');
  orders
    .keyBy((o) => o)
    .connect(payments.keyBy((pay) => pay.order))
    .process(new MatchPayments())
    .uid('match')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
