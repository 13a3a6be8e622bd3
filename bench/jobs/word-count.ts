// The testing benchmark's job: a small keyed word count (lines → words → count per word in ValueState → collect).
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from 'baton';

const WORDS = ['stream', 'state', 'barrier', 'window', 'timer', 'key', 'group', 'sink', 'source', 'checkpoint', 'handover'];

/** Line i of the input: two or three words (deterministic). */
export function lineOf(i: number): string {
  const w = (k: number) => WORDS[(i * 7 + k * 3) % WORDS.length];
  return i % 2 === 0 ? `${w(0)} ${w(1)}` : `${w(0)} ${w(1)} ${w(2)}`;
}

/** Final count per word over lines 0..lines-1. */
export function expectedCounts(lines: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < lines; i++) for (const w of lineOf(i).split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

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

/** Param `lines`: the bounded source's line count (runJob); testJob replaces the source and pushes the same lines. */
export default defineJob((env) => {
  const lines = Number(env.params.lines ?? 100);
  // Checkpointed as a test's job would be; the interval never elapses in a run this short (testJob takes them on request).
  env.enableCheckpointing({ intervalMs: 60_000 });
  env
    .fromSource(Sources.elements(Array.from({ length: lines }, (_, i) => lineOf(i))), 'lines')
    .uid('lines')
    .flatMap<string>((line, out) => {
      for (const w of line.split(' ')) out.collect(w);
    })
    .uid('split')
    .keyBy((w) => w)
    .process(new CountWords())
    .uid('count')
    .sinkTo(Sinks.collect<[string, number]>())
    .uid('out');
});
