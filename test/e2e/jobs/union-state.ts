// Two sources united, filtered, keyed; MapState and ListState per key; at parallelism p the union crosses threads.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, type ListState, type MapState, Sinks, Sources } from 'baton';

interface Order {
  readonly customer: string;
  readonly item: string;
}

class Basket extends KeyedProcessFunction<string, Order, { customer: string; items: Record<string, number>; history: string[] }> {
  private items!: MapState<string, number>;
  private history!: ListState<string>;

  override open(ctx: KeyedRuntimeContext): void {
    this.items = ctx.mapState<string, number>('items');
    this.history = ctx.listState<string>('history');
  }

  processElement(order: Order, ctx: KeyedProcessContext<string>, out: Collector<{ customer: string; items: Record<string, number>; history: string[] }>): void {
    this.items.put(order.item, (this.items.get(order.item) ?? 0) + 1);
    this.history.add(order.item);
    if (this.history.get().length === 4) {
      out.collect({ customer: ctx.key, items: Object.fromEntries(this.items.entries()), history: [...this.history.get()] });
      this.items.clear();
      this.history.clear();
    }
  }
}

export default defineJob((env) => {
  const web = env.fromSource(Sources.sequence({ from: 0, to: 399 }), 'web').map((n): Order => ({ customer: `c${n % 10}`, item: `w${n % 3}` }));
  const shop = env.fromElements(...Array.from({ length: 400 }, (_, n): Order => ({ customer: `c${n % 10}`, item: n % 5 === 0 ? 'gift' : `s${n % 2}` })));
  web
    .union(shop)
    .filter((o) => o.item !== 'gift')
    .uid('no-gifts')
    .keyBy((o) => o.customer)
    .process(new Basket())
    .uid('baskets')
    .sinkTo(Sinks.collect())
    .uid('full-baskets');
});
