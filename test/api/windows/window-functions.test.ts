// Window functions with testJob: reduce, process (window metadata, all elements, per-window and per-key
// state, side outputs) and incremental aggregation or reduction handed to a process function.
import { describe, expect, it } from 'vitest';
import {
  type Collector,
  type CountWindow,
  defineJob,
  type KeyedRuntimeContext,
  OutputTag,
  type ProcessWindowContext,
  ProcessWindowFunction,
  Sinks,
  Sources,
  TumblingEventTimeWindows,
  type ValueState,
} from '../../../src/index.ts';
import { testJob } from '../../../src/testing/index.ts';

interface Sale {
  readonly shop: string;
  readonly amount: number;
}

const at = (shop: string, amount: number, timestamp: number) => ({ value: { shop, amount }, timestamp });
const bigSales = new OutputTag<string>('big-sales');

/** Lists a window's amounts; counts its firings in per-window state and all windows of the shop in per-key state. */
class SalesReport extends ProcessWindowFunction<Sale, string, string> {
  private opened = false;
  override open(_ctx: KeyedRuntimeContext): void {
    this.opened = true;
  }
  process(shop: string, ctx: ProcessWindowContext, sales: readonly Sale[], out: Collector<string>): void {
    const firings = ctx.windowState.valueState<number>('firings');
    const firing = (firings.value() ?? 0) + 1;
    firings.update(firing);
    const windows = ctx.globalState.valueState<number>('windows');
    if (firing === 1) windows.update((windows.value() ?? 0) + 1);
    for (const s of sales) if (s.amount >= 100) ctx.output(bigSales, `${shop} ${s.amount} @${ctx.window.start}`);
    out.collect(`${shop} [${ctx.window.start},${ctx.window.end}) firing ${firing}, window ${windows.value()}, opened ${this.opened}: ${sales.map((s) => s.amount).join('+')}`);
  }
  override clear(ctx: ProcessWindowContext): void {
    ctx.globalState.listState<string>('cleared').add(`${ctx.window.start}:${ctx.windowState.valueState<number>('firings').value()}`);
  }
}

const total = { createAccumulator: () => 0, add: (s: Sale, n: number) => n + s.amount, getResult: (n: number) => n };

/** Gets a pre-aggregated total: one element per firing. */
class TotalWithWindow extends ProcessWindowFunction<number, string, string> {
  process(shop: string, ctx: ProcessWindowContext, totals: readonly number[], out: Collector<string>): void {
    out.collect(`${shop} ${ctx.window.start}-${ctx.window.end}: ${totals.join(',')} (watermark ${ctx.currentWatermark()})`);
  }
}

class LargestWithWindow extends ProcessWindowFunction<Sale, string, string> {
  process(shop: string, ctx: ProcessWindowContext, largest: readonly Sale[], out: Collector<string>): void {
    out.collect(`${shop} ${ctx.window.start}: largest ${largest.map((s) => s.amount)}`);
  }
}

const job = (apply: 'process' | 'aggregate' | 'reduce' | 'plain-reduce') =>
  defineJob((env) => {
    const windowed = env
      .fromSource(Sources.elements<Sale>([]), 'sales')
      .uid('sales')
      .keyBy((s) => s.shop)
      .window(TumblingEventTimeWindows.of(1_000))
      .allowedLateness(1_000);
    const larger = (a: Sale, b: Sale) => (b.amount > a.amount ? b : a);
    if (apply === 'process') {
      const reports = windowed.process(new SalesReport()).uid('w');
      reports.sinkTo(Sinks.collect()).uid('out');
      reports.getSideOutput(bigSales).sinkTo(Sinks.collect()).uid('big');
    } else if (apply === 'aggregate') {
      windowed.aggregate(total, new TotalWithWindow()).uid('w').sinkTo(Sinks.collect()).uid('out');
    } else if (apply === 'reduce') {
      windowed.reduce(larger, new LargestWithWindow()).uid('w').sinkTo(Sinks.collect()).uid('out');
    } else {
      windowed.reduce(larger).uid('w').sinkTo(Sinks.collect()).uid('out');
    }
  });

describe('process window functions', () => {
  it('see key, window, all elements in arrival order, per-window state (purged with the window) and per-key state', async () => {
    const driver = await testJob(job('process'), { parallelism: 2 });
    const sales = driver.input<Sale>('sales');
    await sales.pushTimed([at('x', 5, 100), at('x', 150, 20), at('y', 7, 999), at('x', 1, 1_500)]);
    await sales.advanceWatermark(999);
    expect(driver.output<string>('out').written.sort()).toEqual([
      'x [0,1000) firing 1, window 1, opened true: 5+150',
      'y [0,1000) firing 1, window 1, opened true: 7',
    ]);
    expect(driver.output<string>('big').written).toEqual(['x 150 @0']);
    await sales.pushTimed([at('x', 2, 500)]); // late, within the lateness: fires again
    expect(driver.output<string>('out').written.at(-1)).toBe('x [0,1000) firing 2, window 1, opened true: 5+150+2');
    await sales.advanceWatermark(1_999); // [0,1000) purged (999 + 1 000), [1000,2000) fires
    expect(driver.output<string>('out').written.at(-1)).toBe('x [1000,2000) firing 1, window 2, opened true: 1');
    expect(await driver.listState('w', 'cleared', 'x')).toEqual(['0:2']);
    expect(await driver.listState('w', 'cleared', 'y')).toEqual(['0:1']);
    // Only x's open window [1000, 2000) still has per-window state.
    expect(await driver.mapState('w', 'window-state', 'x')).toEqual([[1_000, { firings: 1 }]]);
    expect(await driver.mapState('w', 'window-state', 'y')).toEqual([]);
    await driver.finish();
  });

  it('after aggregate or reduce, get the one pre-aggregated value with the window', async () => {
    for (const [apply, expected] of [
      ['aggregate', ['a 0-1000: 3 (watermark 999)', 'a 0-1000: 7 (watermark 999)']],
      ['reduce', ['a 0: largest 2', 'a 0: largest 4']],
      ['plain-reduce', [{ shop: 'a', amount: 2 }, { shop: 'a', amount: 4 }]],
    ] as const) {
      const driver = await testJob(job(apply), { parallelism: 1 });
      const sales = driver.input<Sale>('sales');
      await sales.pushTimed([at('a', 1, 0), at('a', 2, 1)]);
      await sales.advanceWatermark(999);
      await sales.pushTimed([at('a', 4, 2)]);
      await driver.finish();
      expect(driver.output('out').committed).toEqual(expected);
    }
  });
});

describe('count windows with a process function', () => {
  it('get the window index and count, and per-window state that lives across firings', async () => {
    class Batches extends ProcessWindowFunction<Sale, string, string, CountWindow> {
      process(shop: string, ctx: ProcessWindowContext<CountWindow>, sales: readonly Sale[], out: Collector<string>): void {
        const sum: ValueState<number> = ctx.windowState.valueState('sum');
        sum.update((sum.value() ?? 0) + sales.reduce((n, s) => n + s.amount, 0));
        out.collect(`${shop} batch ${ctx.window.index} of ${ctx.window.count}: running ${sum.value()}`);
      }
    }
    const counted = defineJob((env) => {
      env.fromSource(Sources.elements<Sale>([]), 'sales').uid('sales').keyBy((s) => s.shop).countWindow(2).process(new Batches()).uid('w').sinkTo(Sinks.collect()).uid('out');
    });
    const driver = await testJob(counted, { parallelism: 2 });
    await driver.input<Sale>('sales').pushAll([1, 2, 3, 4, 5].map((amount) => ({ shop: 's', amount })));
    await driver.finish();
    expect(driver.output('out').committed).toEqual(['s batch 0 of 2: running 3', 's batch 1 of 2: running 10']);
  });
});
