// testJob with a handover: B takes over from a running driver through the real protocol, in this thread.
import { describe, expect, it } from 'vitest';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from '../../src/index.ts';
import { testJob } from '../../src/testing/index.ts';

class RunningCount extends KeyedProcessFunction<string, string, string> {
  private count!: ValueState<number>;
  constructor(private readonly tag: string) {
    super();
  }
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(_word: string, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(`${this.tag}:${ctx.key}#${n}`);
  }
}

const version = (tag: string) =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    env.fromSource(Sources.elements<string>([]), 'words').uid('words').keyBy((w) => w).process(new RunningCount(tag)).uid('count').sinkTo(Sinks.collect()).uid('out');
  });

describe('testJob handover', () => {
  it('B takes over when ready: state continues, every input record committed once, by A before the cut and B after', async () => {
    const a = await testJob(version('v1'), { parallelism: 2 });
    await a.input<string>('words').pushAll(['x', 'y', 'x']);
    await a.checkpoint();
    await a.input<string>('words').pushAll(['y', 'x']);
    const b = await testJob(version('v2'), { parallelism: 3, handover: { from: a } });
    expect(a.handle.status).toBe('STANDBY');
    await b.input<string>('words').pushAll(['x', 'z']);
    await b.checkpoint();
    await a.handle.done;
    // A handed the job over: it ends SUSPENDED at its stop checkpoint, as on threads.
    expect(a.handle.status).toBe('SUSPENDED');
    expect(b.output<string>('out').committed.sort()).toEqual(['v1:x#1', 'v1:x#2', 'v1:x#3', 'v1:y#1', 'v1:y#2', 'v2:x#4', 'v2:z#1']);
    await b.close();
  });
});
