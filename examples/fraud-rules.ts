// Example job: fraud rules via broadcast state. Transactions are keyed by account; rule updates
// (limits, velocity checks, blocked countries) are broadcast to every parallel instance, which keeps
// them in broadcast state while the job runs. Alerts go to a sink, late transactions to a side output.
//
//   node bin/baton.mjs run examples/fraud-rules.ts --param transactions=50000 --param accounts=500
//
// The result is deterministic whatever the interleaving of the two streams: each transaction waits
// in keyed state until the watermark (the minimum of both inputs') reaches its time, then is judged
// by the rules in effect at that time. Every rule update that applies has arrived by then, and a
// restore from a checkpoint gives the same alerts as an uninterrupted run.
import {
  type BroadcastContext,
  BroadcastStateDescriptor,
  type Collector,
  defineJob,
  type KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
  type KeyedReadOnlyBroadcastContext,
  type KeyedRuntimeContext,
  type ListState,
  type MapState,
  OutputTag,
  Sinks,
  Sources,
  WatermarkStrategy,
} from 'baton';

export interface Transaction {
  readonly id: number;
  readonly account: string;
  readonly amount: number;
  readonly country: string;
  /** Event time (epoch ms). */
  readonly at: number;
}

export type Rule =
  | { readonly id: string; readonly kind: 'max-amount'; readonly limit: number }
  | { readonly id: string; readonly kind: 'velocity'; readonly count: number; readonly withinMs: number }
  | { readonly id: string; readonly kind: 'blocked-countries'; readonly countries: readonly string[] };

/** A rule takes effect (or, with `rule: null`, is withdrawn) for transactions at or after `at`. */
export interface RuleUpdate {
  readonly id: string;
  readonly rule: Rule | null;
  readonly at: number;
}

export interface Alert {
  readonly account: string;
  readonly tx: number;
  readonly rule: string;
  readonly at: number;
}

/** One version of a rule in broadcast state, effective from `from` until the next version. */
export interface RuleVersion {
  readonly from: number;
  readonly rule: Rule | null;
}

/** Every rule's versions, by rule id: the broadcast state. */
export const RULES = new BroadcastStateDescriptor<string, readonly RuleVersion[]>('rules');
/** Transactions that came after the watermark had passed their time (beyond the allowed out-of-orderness). */
export const LATE = new OutputTag<Transaction>('late-transactions');

/** Velocity checks look this far back at most; older transaction times are forgotten. */
export const MAX_VELOCITY_WINDOW_MS = 10 * 60_000;

/** The version of a rule in effect at `at` (versions sorted by `from`), if any. */
export function ruleAt(versions: readonly RuleVersion[], at: number): Rule | null {
  let current: Rule | null = null;
  for (const v of versions) {
    if (v.from > at) break;
    current = v.rule;
  }
  return current;
}

/**
 * Judges each account's transactions in event-time order against the rules in effect at their
 * time. Keyed state: transactions waiting for the watermark, and the times of the account's
 * recent transactions (for velocity rules). Broadcast state: every rule's versions.
 */
export class RuleEngine extends KeyedBroadcastProcessFunction<string, Transaction, RuleUpdate, Alert> {
  private pending!: MapState<number, Transaction[]>;
  private recent!: ListState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.pending = ctx.mapState<number, Transaction[]>('pending');
    this.recent = ctx.listState<number>('recent');
  }

  processElement(tx: Transaction, ctx: KeyedReadOnlyBroadcastContext<string>): void {
    // Judged when the watermark reaches tx.at; one already past it would be judged out of order.
    if (tx.at <= ctx.timerService.currentWatermark()) {
      ctx.output(LATE, tx);
      return;
    }
    const waiting = this.pending.get(tx.at);
    this.pending.put(tx.at, waiting === undefined ? [tx] : [...waiting, tx]);
    ctx.timerService.registerEventTimeTimer(tx.at);
  }

  processBroadcastElement(update: RuleUpdate, ctx: BroadcastContext): void {
    const rules = ctx.getBroadcastState(RULES);
    // A new array, never changed in place: checkpoints and the other readers keep theirs.
    const versions = [...(rules.get(update.id) ?? []), { from: update.at, rule: update.rule }].sort((a, b) => a.from - b.from);
    rules.put(update.id, versions);
  }

  override onTimer(at: number, ctx: KeyedBroadcastOnTimerContext<string>, out: Collector<Alert>): void {
    const due = this.pending.get(at) ?? [];
    this.pending.remove(at);
    const rules = ctx.getBroadcastState(RULES);
    let recent = this.recent.get().filter((t) => t > at - MAX_VELOCITY_WINDOW_MS);
    for (const tx of [...due].sort((a, b) => a.id - b.id)) {
      recent = [...recent, tx.at];
      for (const [id, versions] of [...rules.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const rule = ruleAt(versions, tx.at);
        if (rule !== null && breaks(rule, tx, recent)) out.collect({ account: tx.account, tx: tx.id, rule: id, at: tx.at });
      }
    }
    this.recent.update(recent);
  }
}

/** Whether `tx` breaks `rule`; `recent` holds the times of the account's transactions so far, tx's included. */
export function breaks(rule: Rule, tx: Transaction, recent: readonly number[]): boolean {
  switch (rule.kind) {
    case 'max-amount':
      return tx.amount > rule.limit;
    case 'velocity':
      return recent.filter((t) => t > tx.at - rule.withinMs).length > rule.count;
    case 'blocked-countries':
      return rule.countries.includes(tx.country);
  }
}

export const START = Date.UTC(2026, 0, 1);
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'NG', 'VN', 'IN', 'JP'];

/** Transaction n of a deterministic stream: one every 100 ms, up to a second out of order. */
export function transaction(n: number, accounts: number): Transaction {
  const h = mix(n + 1);
  // Mostly small amounts, now and then a large one.
  const amount = (h >>> 9) % 50 === 0 ? 1_000 + ((h >>> 3) % 9_000) : 5 + ((h >>> 3) % 400);
  return { id: n, account: `acct-${h % accounts}`, amount, country: COUNTRIES[(h >>> 17) % COUNTRIES.length], at: START + n * 100 - (h % 1_000) };
}

/** A 32-bit integer hash (lowbias32): neighbouring n land on unrelated accounts, amounts and countries. */
function mix(n: number): number {
  let h = n >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The rules as they change over a run of `transactions` transactions: set, tightened, withdrawn. */
export function ruleTimeline(transactions: number): RuleUpdate[] {
  const at = (fraction: number) => START + Math.floor(transactions * fraction) * 100;
  return [
    { id: 'big-amount', rule: { id: 'big-amount', kind: 'max-amount', limit: 5_000 }, at: at(0) },
    { id: 'burst', rule: { id: 'burst', kind: 'velocity', count: 5, withinMs: 30_000 }, at: at(0) },
    { id: 'big-amount', rule: { id: 'big-amount', kind: 'max-amount', limit: 2_000 }, at: at(0.3) },
    { id: 'sanctions', rule: { id: 'sanctions', kind: 'blocked-countries', countries: ['NG'] }, at: at(0.4) },
    { id: 'burst', rule: { id: 'burst', kind: 'velocity', count: 3, withinMs: 20_000 }, at: at(0.6) },
    { id: 'sanctions', rule: null, at: at(0.75) },
  ];
}

export default defineJob((env) => {
  const transactions = Number(env.params.transactions ?? 20_000);
  const accounts = Number(env.params.accounts ?? 200);
  // One subtask reads the rule updates and stamps them (a subtask without records would hold the
  // watermark back); broadcast sends each to every subtask of the rule engine.
  const rules = env
    .fromElements(...ruleTimeline(transactions))
    .uid('rule-updates')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<RuleUpdate>().withTimestampAssigner((u) => u.at))
    .setParallelism(1)
    .uid('rule-time')
    .broadcast(RULES);
  const alerts = env
    .fromSource(Sources.sequence({ from: 0, to: transactions - 1 }), 'transactions')
    .uid('transactions')
    .map((n) => transaction(n, accounts))
    .uid('parse')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Transaction>(1_000).withTimestampAssigner((t) => t.at))
    .uid('tx-time')
    .keyBy((t) => t.account)
    .connect(rules)
    .process(new RuleEngine())
    .uid('rule-engine');
  alerts.sinkTo(Sinks.collect()).uid('alerts');
  alerts.getSideOutput(LATE).sinkTo(Sinks.collect()).uid('late');
});
