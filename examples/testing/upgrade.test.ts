// Testing an upgrade before deploying it (vitest): version 1 runs to a cut, hands over to version 2
// through the real handover protocol, and the report says whether output and state stay continuous.
import { describe, expect, it } from 'vitest';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from 'baton';
import { assertContinuous, upgradeTest } from 'baton/testing';

class Totals extends KeyedProcessFunction<string, { user: string; amount: number }, string> {
  private total!: ValueState<number>;
  constructor(private readonly format: (user: string, total: number) => string) {
    super();
  }
  override open(ctx: KeyedRuntimeContext): void {
    this.total = ctx.valueState<number>('total');
  }
  processElement(p: { user: string; amount: number }, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const total = (this.total.value() ?? 0) + p.amount;
    this.total.update(total);
    out.collect(this.format(ctx.key, total));
  }
}

const version = (format: (user: string, total: number) => string) =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    env
      .fromSource(Sources.elements<{ user: string; amount: number }>([]), 'payments')
      .uid('payments')
      .keyBy((p) => p.user)
      .process(new Totals(format))
      .uid('totals')
      .sinkTo(Sinks.collect())
      .uid('out');
  });

const payments = Array.from({ length: 40 }, (_, i) => ({ user: `u${i % 4}`, amount: i }));

describe('upgrading the totals job', () => {
  it('v1 → v2 (new output format, same state) keeps every total continuous at a new parallelism', async () => {
    const report = await upgradeTest({
      from: { job: version((u, t) => `${u}=${t}`), parallelism: 2 },
      to: { job: version((u, t) => JSON.stringify({ user: u, total: t })), parallelism: 3 },
      input: { payments },
    });
    assertContinuous(report, { state: true });
    expect(report.handover.outcome).toBe('completed');
    // Every payment's total was committed exactly once: by v1 before the cut, by v2 after it.
    expect(report.outputs.out.fromA.length + report.outputs.out.fromB.length).toBe(payments.length);
  });
});
