// Side outputs (OutputTag, ctx.output, getSideOutput) and the explicit partitionings, in testJob and on threads.
import { describe, expect, it } from 'vitest';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, OutputTag, Sinks, Sources } from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';

const odd = new OutputTag<number>('odd');

/** Even numbers on the main output, odd ones on a side output. */
class SplitParity extends KeyedProcessFunction<number, number, number> {
  processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    if (n % 2 === 0) out.collect(n);
    else ctx.output(odd, n);
  }
}

const parity = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 1_000 });
  const evens = env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers').keyBy((n) => n % 5).process(new SplitParity()).uid('split');
  evens.sinkTo(Sinks.collect()).uid('evens');
  evens.getSideOutput(odd).map((n) => n * 10).uid('times-ten').sinkTo(Sinks.collect()).uid('odds');
});

describe('side outputs', () => {
  it('route tagged records to their own stream; the main output chains on as before', async () => {
    const driver = await testJob(parity, { parallelism: 2 });
    await driver.input<number>('numbers').pushAll([1, 2, 3, 4, 5, 6]);
    expect(driver.output<number>('evens').written.sort()).toEqual([2, 4, 6]);
    expect(driver.output<number>('odds').written.sort((a, b) => a - b)).toEqual([10, 30, 50]);
    await driver.checkpoint();
    expect(driver.output<number>('odds').committed.sort((a, b) => a - b)).toEqual([10, 30, 50]);
    await driver.close();
  });

  it('a side output without consumer is dropped; a tag id must be non-empty', async () => {
    expect(() => new OutputTag('')).toThrow(/OutputTag id/);
    const job = defineJob((env) => {
      env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers').keyBy((n) => n).process(new SplitParity()).uid('split').sinkTo(Sinks.collect()).uid('evens');
    });
    const driver = await testJob(job);
    await driver.input<number>('numbers').pushAll([1, 2]);
    expect(driver.output('evens').written).toEqual([2]);
    await driver.close();
  });
});

describe('partitioning', () => {
  const fanOut = (how: 'broadcast' | 'global' | 'shuffle' | 'rebalance') =>
    defineJob((env) => {
      const numbers = env.fromSource(Sources.elements<number>([]), 'numbers').uid('numbers');
      numbers[how]()
        .map((n) => n)
        .uid('copy')
        .setParallelism(3)
        .sinkTo(Sinks.collect())
        .uid('out')
        .setParallelism(3);
    });

  it('broadcast sends every record to every subtask', async () => {
    const driver = await testJob(fanOut('broadcast'), { parallelism: 3 });
    await driver.input<number>('numbers').pushAll([1, 2]);
    await driver.checkpoint();
    const committed = driver.output<number>('out').committedRecords;
    for (const subtask of [0, 1, 2]) expect(committed.filter((r) => r.subtaskIndex === subtask).map((r) => r.value).sort()).toEqual([1, 2]);
    await driver.close();
  });

  it('global sends everything to subtask 0; shuffle and rebalance spread over all three', async () => {
    for (const [how, subtasks] of [['global', [0]], ['shuffle', [0, 1, 2]], ['rebalance', [0, 1, 2]]] as const) {
      const driver = await testJob(fanOut(how), { parallelism: 3 });
      await driver.input<number>('numbers').pushAll(Array.from({ length: 30 }, (_, i) => i));
      await driver.checkpoint();
      const committed = driver.output<number>('out').committedRecords;
      expect(committed.map((r) => r.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect([...new Set(committed.map((r) => r.subtaskIndex))].sort()).toEqual(subtasks);
      await driver.close();
    }
  });

  it('refuses a partitioning of a keyed stream and a uid on a partitioning', () => {
    expect(() =>
      defineJob((env) => {
        env.fromElements(1).rebalance().uid('x');
      }).buildGraph({ parallelism: 1, maxParallelism: 128, params: {} }),
    ).toThrow(/not an operator/);
  });
});
