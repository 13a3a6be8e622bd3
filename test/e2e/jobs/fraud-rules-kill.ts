// The fraud-rules example's rule engine (keyed transactions + broadcast rules) on a paced input,
// with rule updates arriving all along the run, and a worker thread killed once at a chosen record.
import { existsSync, writeFileSync } from 'node:fs';
import { defineJob, Sinks, WatermarkStrategy } from 'baton';
import { RULES, type RuleUpdate, RuleEngine, START, type Transaction, transaction } from '../../../examples/fraud-rules.ts';
import { alertLine } from '../../../examples/testing/fraud-rules-reference.ts';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';

/** Every RULE_EVERY-th number is a rule update instead of a transaction. */
export const RULE_EVERY = 150;

/** The rule updates cycle through these states, one step per update. */
const CYCLE: ReadonlyArray<(at: number) => RuleUpdate> = [
  (at) => ({ id: 'big-amount', rule: { id: 'big-amount', kind: 'max-amount', limit: 2_000 + ((at / 100) % 3) * 1_000 }, at }),
  (at) => ({ id: 'burst', rule: { id: 'burst', kind: 'velocity', count: 6, withinMs: 20_000 }, at }),
  (at) => ({ id: 'sanctions', rule: { id: 'sanctions', kind: 'blocked-countries', countries: ['NG', 'VN'] }, at }),
  (at) => ({ id: 'burst', rule: { id: 'burst', kind: 'velocity', count: 8, withinMs: 30_000 }, at }),
  (at) => ({ id: 'sanctions', rule: null, at }),
];

export type Item = { readonly tx: Transaction } | { readonly rule: RuleUpdate };

/** Number n of the input: a rule update at n's time, or transaction n. */
export function item(n: number, accounts: number): Item {
  if (n % RULE_EVERY === 0) return { rule: CYCLE[(n / RULE_EVERY) % CYCLE.length](START + n * 100) };
  return { tx: transaction(n, accounts) };
}

/** Ends this worker thread abruptly at number `at`, once: the marker file makes later attempts pass. */
function crashOnce(at: number, marker: string): (n: number) => number {
  return (n) => {
    if (n === at && !existsSync(marker)) {
      writeFileSync(marker, `crashed at ${n}`);
      process.exit(17);
    }
    return n;
  };
}

function spin<T>(micros: number, value: T): T {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until) {
    // busy: a stage that cannot keep up
  }
  return value;
}

export default defineJob((env) => {
  const p = env.params;
  const accounts = Number(p.accounts ?? 40);
  env.setAutoWatermarkInterval(0);
  env.enableCheckpointing({ mode: p.mode === 'unaligned' ? 'unaligned' : 'aligned', intervalMs: Number(p.intervalMs ?? 30), retain: 3, tolerableFailures: 100 });
  const slowMicros = Number(p.slowMicros ?? 0);
  let numbers = env
    .fromSource(pacedSequence({ from: 1, to: Number(p.to), segment: Number(p.segment ?? 250), signals: String(p.pacedBy) }), 'numbers')
    .setParallelism(1)
    .uid('numbers');
  if (p.crashAt !== undefined) numbers = numbers.map(crashOnce(Number(p.crashAt), String(p.crashMarker))).setParallelism(1).uid('crash');
  const items = numbers
    .map((n) => item(n, accounts))
    .setParallelism(1)
    .uid('items')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Item>(1_000).withTimestampAssigner((i) => ('tx' in i ? i.tx.at : i.rule.at)))
    .setParallelism(1)
    .uid('event-time');
  const rules = items
    .flatMap<RuleUpdate>((i, out) => {
      if ('rule' in i) out.collect(i.rule);
    })
    .setParallelism(1)
    .uid('rules')
    .broadcast(RULES);
  items
    .flatMap<Transaction>((i, out) => {
      if ('tx' in i) out.collect(i.tx);
    })
    .setParallelism(1)
    .uid('transactions')
    .keyBy((t) => t.account)
    .connect(rules)
    .process(new RuleEngine())
    .uid('rule-engine')
    // Param slowMicros: a slow stage chained to the engine, so records wait in its input channels
    // (both inputs) and unaligned barriers overtake them.
    .map((alert) => (slowMicros > 0 ? spin(slowMicros, alertLine(alert)) : alertLine(alert)))
    .uid('to-line')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
