// User function types of two-input operators: connect, interval join, broadcast state.
import type {
  BroadcastContext,
  CoProcessContext,
  KeyedBroadcastOnTimerContext,
  KeyedReadOnlyBroadcastContext,
  ProcessJoinContext,
  ReadOnlyBroadcastContext,
} from '../runtime/operators/two-input-types.ts';
import type { Collector, KeyedProcessContext, KeyedRuntimeContext, OnTimerContext, RuntimeContext } from '../runtime/operators/types.ts';
import type { KeyValue } from '../state/index.ts';

export type {
  BroadcastContext,
  BroadcastState,
  CoProcessContext,
  KeyedBroadcastOnTimerContext,
  KeyedReadOnlyBroadcastContext,
  ProcessJoinContext,
  ReadOnlyBroadcastContext,
  ReadOnlyBroadcastState,
} from '../runtime/operators/two-input-types.ts';

/**
 * Processes two connected streams, no key: `processElement1` gets the first stream's records,
 * `processElement2` the second's. The watermark is the minimum of both inputs'. Timers and keyed
 * state need keyed streams (KeyedCoProcessFunction), as in Flink.
 *
 * @example
 * class Tag extends CoProcessFunction<Order, Refund, string> {
 *   processElement1(o: Order, _ctx: CoProcessContext, out: Collector<string>) { out.collect(`order ${o.id}`); }
 *   processElement2(r: Refund, _ctx: CoProcessContext, out: Collector<string>) { out.collect(`refund ${r.id}`); }
 * }
 * orders.connect(refunds).process(new Tag()).uid('tag');
 */
export abstract class CoProcessFunction<I1, I2, O> {
  open?(ctx: RuntimeContext): void | Promise<void>;
  abstract processElement1(value: I1, ctx: CoProcessContext, out: Collector<O>): void;
  abstract processElement2(value: I2, ctx: CoProcessContext, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/**
 * Processes two keyed streams connected on the same key: both inputs see (and change) the same
 * per-key state and timers.
 *
 * @example
 * class Match extends KeyedCoProcessFunction<string, Order, Payment, string> {
 *   private order!: ValueState<Order>;
 *   open(ctx: KeyedRuntimeContext) { this.order = ctx.valueState('order'); }
 *   processElement1(o: Order) { this.order.update(o); }
 *   processElement2(p: Payment, ctx: KeyedProcessContext<string>, out: Collector<string>) {
 *     if (this.order.value()) out.collect(`${ctx.key} paid`);
 *   }
 * }
 * orders.keyBy((o) => o.id).connect(payments.keyBy((p) => p.orderId)).process(new Match()).uid('match');
 */
export abstract class KeyedCoProcessFunction<K extends KeyValue, I1, I2, O> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  abstract processElement1(value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  abstract processElement2(value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/**
 * Called by an interval join once per pair of a left and a right record of the same key whose
 * times fit the interval; the pair's time is the later of the two.
 *
 * @example
 * class Attribute extends ProcessJoinFunction<Click, Order, string, string> {
 *   processElement(c: Click, o: Order, ctx: ProcessJoinContext<string>, out: Collector<string>) {
 *     out.collect(`${ctx.key}: order ${o.id} ${o.at - c.at} ms after click`);
 *   }
 * }
 */
export abstract class ProcessJoinFunction<L, R, O, K extends KeyValue = KeyValue> {
  open?(ctx: RuntimeContext): void | Promise<void>;
  abstract processElement(left: L, right: R, ctx: ProcessJoinContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/**
 * Processes a stream against broadcast state: `processBroadcastElement` gets every record of the
 * broadcast stream, in every parallel instance, and may write the broadcast state;
 * `processElement` reads it (read only).
 *
 * @example
 * const thresholds = new BroadcastStateDescriptor<string, number>('thresholds');
 * class Flag extends BroadcastProcessFunction<Reading, [string, number], string> {
 *   processElement(r: Reading, ctx: ReadOnlyBroadcastContext, out: Collector<string>) {
 *     if (r.value > (ctx.getBroadcastState(thresholds).get(r.sensor) ?? Infinity)) out.collect(r.sensor);
 *   }
 *   processBroadcastElement([sensor, limit]: [string, number], ctx: BroadcastContext) {
 *     ctx.getBroadcastState(thresholds).put(sensor, limit);
 *   }
 * }
 * readings.connect(limits.broadcast(thresholds)).process(new Flag()).uid('flag');
 */
export abstract class BroadcastProcessFunction<I, B, O> {
  open?(ctx: RuntimeContext): void | Promise<void>;
  abstract processElement(value: I, ctx: ReadOnlyBroadcastContext, out: Collector<O>): void;
  abstract processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
  close?(): void | Promise<void>;
}

/**
 * A keyed stream processed against broadcast state: `processElement` has the key's state and
 * timers and reads the broadcast state; `processBroadcastElement` (no key there) writes it.
 *
 * @example
 * class Alert extends KeyedBroadcastProcessFunction<string, Tx, Rule, string> {
 *   processElement(tx: Tx, ctx: KeyedReadOnlyBroadcastContext<string>, out: Collector<string>) {
 *     for (const rule of ctx.getBroadcastState(rules).values()) if (tx.amount > rule.limit) out.collect(`${ctx.key}: ${rule.id}`);
 *   }
 *   processBroadcastElement(rule: Rule, ctx: BroadcastContext) { ctx.getBroadcastState(rules).put(rule.id, rule); }
 * }
 * txs.keyBy((t) => t.account).connect(ruleStream.broadcast(rules)).process(new Alert()).uid('alerts');
 */
export abstract class KeyedBroadcastProcessFunction<K extends KeyValue, I, B, O> {
  open?(ctx: KeyedRuntimeContext): void | Promise<void>;
  abstract processElement(value: I, ctx: KeyedReadOnlyBroadcastContext<K>, out: Collector<O>): void;
  abstract processBroadcastElement(value: B, ctx: BroadcastContext, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: KeyedBroadcastOnTimerContext<K>, out: Collector<O>): void;
  close?(): void | Promise<void>;
}
