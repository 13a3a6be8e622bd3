// Side outputs, explicit partitionings and a rolling aggregation on worker threads, for a kill test:
// evens (main output) → rolling sum per key; odds (side output) → shuffle; hundreds → broadcast.
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, OutputTag, param, Sinks } from 'baton';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';

export const odd = new OutputTag<number>('odd');

class SplitParity extends KeyedProcessFunction<number, number, number> {
  processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    if (n % 2 === 0) out.collect(n);
    else ctx.output(odd, n);
  }
}

/** Ends this worker thread once file `when` exists, once (the marker, created exclusively, makes later attempts pass). */
function crashOnceWhen(when: string, marker: string): (n: number) => number {
  const crash = () => {
    if (!existsSync(when) || existsSync(marker)) return;
    try {
      closeSync(openSync(marker, 'wx'));
    } catch {
      return;
    }
    writeFileSync(marker, 'crashed');
    process.exit(17);
  };
  if (!isMainThread) setInterval(crash, 2).unref();
  let seen = 0;
  return (n) => {
    if (++seen % 64 === 0) crash();
    return n;
  };
}

export default defineJob(
  {
    params: {
      output: param.string({ required: true }),
      to: param.number({ default: 3_000, integer: true, min: 1 }),
      segment: param.number({ default: 300, integer: true, min: 1 }),
      pacedBy: param.string({ required: true }),
      crashWhenFile: param.string(),
      crashMarker: param.string(),
    },
  },
  (env, p) => {
    env.enableCheckpointing({ intervalMs: 30, tolerableFailures: 100 });
    let numbers = env.fromSource(pacedSequence({ from: 1, to: p.to, segment: p.segment, signals: p.pacedBy }), 'numbers').uid('numbers');
    if (p.crashWhenFile !== undefined) numbers = numbers.map(crashOnceWhen(p.crashWhenFile, p.crashMarker ?? `${p.crashWhenFile}.done`)).setParallelism(1).uid('crash');
    const evens = numbers.keyBy((n) => n % 7).process(new SplitParity()).uid('split');
    // A rolling sum per key: each output depends on every earlier even number of its key. Keyed as
    // the split is, so a key's numbers come from one upstream subtask in source order (any run).
    evens
      .keyBy((n) => n % 7)
      .sum()
      .uid('sums')
      .map((s) => `sum ${s}`)
      .uid('format-sums')
      .sinkTo(Sinks.file<string>({ path: `${p.output}/sums`, format: (l) => l }))
      .uid('sums-out');
    evens
      .getSideOutput(odd)
      .shuffle()
      .map((n) => `odd ${n}`)
      .uid('format-odds')
      .sinkTo(Sinks.file<string>({ path: `${p.output}/odds`, format: (l) => l }))
      .uid('odds-out');
    numbers
      .filter((n) => n % 100 === 0)
      .uid('hundreds')
      .broadcast()
      .map((n) => `hundred ${n}`)
      .uid('format-hundreds')
      .sinkTo(Sinks.file<string>({ path: `${p.output}/hundreds`, format: (l) => l }))
      .uid('hundreds-out');
  },
);
