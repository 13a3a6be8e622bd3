// Example job for the handover demo: order totals per customer, priced from reference data a pre-state-load hook loads.
import {
  type Collector,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  Sinks,
  type Source,
  Sources,
  type StreamExecutionEnvironment,
  type ValueState,
} from 'baton';

export interface Order {
  readonly id: number;
  readonly customer: number;
  readonly item: number;
  readonly qty: number;
}

/** Order n of a deterministic order stream. */
export function order(n: number, customers: number): Order {
  const h = Math.imul(n, 2654435761) >>> 0;
  return { id: n, customer: h % customers, item: (h >>> 8) % 64, qty: 1 + ((h >>> 16) % 5) };
}

/** Price of item i in the reference data: the first 64 int32 of the price list. */
export function priceOf(prices: Int32Array, item: number): number {
  return prices[item];
}

/** Spend per customer so far, in keyed state; emits `order id,customer,spend`. */
export class CustomerSpend extends KeyedProcessFunction<number, Order, string> {
  private spend!: ValueState<number>;
  private prices!: Int32Array;

  constructor(private readonly priceList: string) {
    super();
  }

  override open(ctx: KeyedRuntimeContext): void {
    this.spend = ctx.valueState<number>('spend');
    this.prices = new Int32Array(ctx.referenceData(this.priceList).buffer, 0, 64);
  }

  processElement(o: Order, ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    const spend = (this.spend.value() ?? 0) + o.qty * priceOf(this.prices, o.item);
    this.spend.update(spend);
    out.collect(`${o.id},${ctx.key},${spend}`);
  }
}

/**
 * The job's pipeline, shared with the handover benchmark: a hook loads the price list into shared
 * memory, order numbers from `source` (one ordered stream, so each customer's running spend is
 * deterministic and checkable) become orders, spend per customer in keyed state, a file sink.
 *
 * @example pricedOrders(env, Sources.sequence({ from: 1, to: 100 }), (n) => order(n, 10), 'file:///prices.bin', './out');
 */
export function pricedOrders(env: StreamExecutionEnvironment, source: Source<number>, toOrder: (n: number) => Order, priceList: string, output: string): void {
  // The slow start-up a handover hides: the whole price list (any size) into shared memory, once.
  env.onBeforeStateLoad('price-list', async (ctx) => {
    await ctx.loadReferenceData(priceList);
  });
  env
    .fromSource(source, 'orders')
    .uid('orders')
    .setParallelism(1)
    .map(toOrder)
    .uid('parse')
    .setParallelism(1)
    .keyBy((o) => o.customer)
    .process(new CustomerSpend(priceList))
    .uid('spend')
    .sinkTo(Sinks.file<string>({ path: output, format: (line) => line }))
    .uid('out');
}

export default defineJob((env) => {
  const p = env.params;
  const priceList = String(p.priceList);
  const customers = Number(p.customers ?? 10_000);
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 250), retain: 5 });
  const orders = Sources.sequence({ from: 1, to: Number(p.orders ?? 60_000), ratePerSec: Number(p.rate ?? 8_000) });
  pricedOrders(env, orders, (n) => order(n, customers), priceList, String(p.output));
});
