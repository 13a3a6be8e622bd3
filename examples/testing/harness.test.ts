// Testing one keyed function with baton/testing's harness (vitest): elements with keys and event
// time, explicit watermarks and processing time, state reads, snapshot and restore.
import { describe, expect, it } from 'vitest';
import { type Collector, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, type OnTimerContext, type ValueState } from 'baton';
import { harness } from 'baton/testing';

interface Payment {
  readonly card: string;
  readonly amount: number;
}

/** Alerts when a card spends more than 1 000 within a minute of event time after its first payment. */
class SpendAlert extends KeyedProcessFunction<string, Payment, string> {
  private spent!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.spent = ctx.valueState<number>('spent');
  }
  processElement(p: Payment, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const before = this.spent.value();
    if (before === undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp! + 60_000);
    const now = (before ?? 0) + p.amount;
    this.spent.update(now);
    if (now > 1_000 && (before ?? 0) <= 1_000) out.collect(`${ctx.key} spent ${now} within a minute`);
  }
  override onTimer(_t: number, _ctx: OnTimerContext<string>): void {
    this.spent.clear();
  }
}

describe('SpendAlert', () => {
  it('alerts once over 1 000 and forgets the card a minute after its first payment', async () => {
    const h = await harness.process(() => new SpendAlert(), { key: (p: Payment) => p.card });
    await h.processElement({ card: 'c1', amount: 600 }, 1_000);
    await h.processElement({ card: 'c1', amount: 500 }, 20_000);
    expect(h.output).toEqual(['c1 spent 1100 within a minute']);
    expect(await h.valueState<number>('spent', 'c1')).toBe(1_100);

    // The minute ends at 61 000: state goes, the next payment starts a new minute.
    await h.processWatermark(61_000);
    expect(await h.valueState('spent', 'c1')).toBeUndefined();
    await h.processElement({ card: 'c1', amount: 900 }, 62_000);
    expect(h.output).toHaveLength(1);
    await h.close();
  });

  it('keeps state and timers across a snapshot and restore', async () => {
    const h = await harness.process(() => new SpendAlert(), { key: (p: Payment) => p.card });
    await h.processElement({ card: 'c2', amount: 800 }, 1_000);
    const snapshot = await h.snapshot();
    await h.close();

    const restored = await harness.process(() => new SpendAlert(), { key: (p: Payment) => p.card, parallelism: 2, restoreFrom: snapshot });
    await restored.processElement({ card: 'c2', amount: 300 }, 30_000);
    expect(restored.output).toEqual(['c2 spent 1100 within a minute']);
    await restored.processWatermark(61_000);
    expect(await restored.valueState('spent', 'c2')).toBeUndefined();
    await restored.close();
  });
});
