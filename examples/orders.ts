// Example job for the handover demo: order totals per customer, priced from reference data a pre-state-load hook loads.
import {
  type Collector,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  Sinks,
  type Source,
  type SourceReader,
  type SourceSplit,
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
export function pricedOrders(env: StreamExecutionEnvironment, source: Source<number>, toOrder: (n: number) => Order, priceList: string, output: string, shadowOutput?: string): void {
  // The slow start-up a handover hides: the whole price list (any size) into shared memory, once.
  env.onBeforeStateLoad('price-list', async (ctx) => {
    await ctx.loadReferenceData(priceList);
  });
  const out = env
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
  // Where a shadow deployment of this job writes before its promotion (a handover in shadow mode).
  if (shadowOutput !== undefined) out.shadowTo(Sinks.file<string>({ path: shadowOutput, format: (line) => line }));
}

/**
 * Reads a live stream of order numbers: number n arrives at `since + (n - from) / ratePerSec` ms on
 * the wall clock, whoever reads it and whenever it started. Two deployments reading it see the
 * same orders at the same time (like a log both consume), which a shadow handover needs; the
 * offset is the next number, ordered by `compareOffsets` so a cut can be made at any position.
 */
class LiveOrderReader implements SourceReader<number> {
  finished: boolean;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wake: ((n: number) => void) | undefined;

  constructor(
    private readonly id: string,
    private next: number,
    private readonly o: LiveOrdersOptions,
  ) {
    this.finished = next > o.to;
  }

  poll(max: number, emit: (value: number, timestamp: number) => void): number | Promise<number> {
    if (this.next > this.o.to) {
      this.finished = true;
      return 0;
    }
    const due = this.o.from + Math.floor(((Date.now() - this.o.since) * this.o.ratePerSec) / 1000);
    const last = Math.min(this.o.to, due, this.next + max - 1);
    if (last < this.next) {
      return new Promise<number>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(() => resolve(0), Math.max(1, Math.ceil(1000 / this.o.ratePerSec)));
      });
    }
    for (let n = this.next; n <= last; n++) emit(n, Date.now());
    const emitted = last - this.next + 1;
    this.next = last + 1;
    if (this.next > this.o.to) this.finished = true;
    return emitted;
  }

  wakeUp(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.(0);
  }

  currentSplit(): SourceSplit {
    return { id: this.id, offset: this.next };
  }

  close(): void {
    this.wakeUp();
  }
}

export interface LiveOrdersOptions {
  readonly from: number;
  readonly to: number;
  readonly ratePerSec: number;
  /** Epoch ms when number `from` arrived. */
  readonly since: number;
}

/**
 * Order numbers `from..to` as a live stream on the wall clock (see LiveOrderReader).
 *
 * @example env.fromSource(liveOrderNumbers({ from: 1, to: 60_000, ratePerSec: 2_000, since: Date.now() }), 'orders')
 */
export function liveOrderNumbers(options: LiveOrdersOptions): Source<number> {
  return {
    kind: 'live-orders',
    maxSourceParallelism: 1,
    validate() {},
    createSplits: () => [{ id: 'live-orders-0', offset: options.from }],
    createReader(split) {
      if (typeof split.offset !== 'number' || !Number.isSafeInteger(split.offset)) throw new TypeError(`live orders: split '${split.id}' has no numeric offset`);
      return new LiveOrderReader(split.id, split.offset, options);
    },
    compareOffsets: (a, b) => Number(a) - Number(b),
  };
}

export default defineJob((env) => {
  const p = env.params;
  const priceList = String(p.priceList);
  const customers = Number(p.customers ?? 10_000);
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 250), retain: 5 });
  const to = Number(p.orders ?? 60_000);
  const rate = Number(p.rate ?? 8_000);
  // Param `liveSince` (epoch ms): a live stream every deployment reads at the same pace (shadow handovers).
  const orders = p.liveSince === undefined ? Sources.sequence({ from: 1, to, ratePerSec: rate }) : liveOrderNumbers({ from: 1, to, ratePerSec: rate, since: Number(p.liveSince) });
  pricedOrders(env, orders, (n) => order(n, customers), priceList, String(p.output), p.shadowOutput === undefined ? undefined : String(p.shadowOutput));
});
