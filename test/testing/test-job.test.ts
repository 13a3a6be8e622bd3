// testJob: a whole job in this thread, fed and inspected step by step.
import { describe, expect, it } from 'vitest';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';

class CountWords extends KeyedProcessFunction<string, string, [string, number]> {
  private count!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(_word: string, ctx: KeyedProcessContext<string>, out: Collector<[string, number]>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect([ctx.key, n]);
  }
}

const wordCount = defineJob((env) => {
  env
    .fromSource(Sources.elements<string>([]), 'lines')
    .uid('lines')
    .flatMap<string>((line, out) => {
      for (const w of line.split(' ')) if (w) out.collect(w);
    })
    .uid('split')
    .keyBy((w) => w)
    .process(new CountWords())
    .uid('count')
    .sinkTo(Sinks.collect())
    .uid('out');
});

describe('testJob', () => {
  it('runs a keyed job in this thread: push, read output and state, checkpoint commits', async () => {
    const started = performance.now();
    const driver = await testJob(wordCount, { parallelism: 2 });
    await driver.input<string>('lines').pushAll(['to be or', 'not to be']);
    const out = driver.output<[string, number]>('out');
    expect(out.written.sort()).toEqual([['be', 1], ['be', 2], ['not', 1], ['or', 1], ['to', 1], ['to', 2]]);
    expect(out.committed).toEqual([]);
    expect(await driver.valueState<number>('count', 'count', 'to')).toBe(2);
    const cp = await driver.checkpoint();
    expect(out.committed.length).toBe(6);
    expect(out.uncommitted).toEqual([]);
    await driver.close();
    console.log(`testJob wordcount: ${Math.round(performance.now() - started)} ms (checkpoint ${cp.id})`);
  });

  it('is deterministic: the same steps give the same output in the same order, run after run', async () => {
    const run = async () => {
      const driver = await testJob(wordCount, { parallelism: 3, inputs: { lines: { partitions: 2 } } });
      const lines = driver.input<string>('lines');
      await lines.pushAll(['a b c d e f', 'b c d'], { partition: 0 });
      await lines.pushAll(['f e d c b a'], { partition: 1 });
      await driver.checkpoint();
      await lines.push('a a a', { partition: 1 });
      const written = driver.output<[string, number]>('out').written;
      await driver.close();
      return written;
    };
    const first = await run();
    expect(first).toHaveLength(18);
    for (let i = 0; i < 3; i++) expect(await run()).toEqual(first);
  });

  it('keeps the sources a test does not replace (inputs: []) and finishes with the job', async () => {
    const bounded = defineJob((env) => {
      env.fromSource(Sources.sequence({ from: 1, to: 100 }), 'numbers').uid('numbers').map((n) => n * 2).uid('double').sinkTo(Sinks.collect()).uid('out');
    });
    const driver = await testJob(bounded, { parallelism: 2, inputs: [] });
    expect(() => driver.input('numbers')).toThrow(/has no input 'numbers'/);
    const result = await driver.finish();
    expect(result.status).toBe('FINISHED');
    const out = driver.output<number>('out').committed;
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => (i + 1) * 2));
  });
});
