// A slow keyed per-key counter: every output line is `key,n,count`, so a record processed out of order shows as a wrong count.
import { existsSync, writeFileSync } from 'node:fs';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from 'baton';

/** Counts the records of each key; each record goes out with the count including it. */
export class PerKeyCount extends KeyedProcessFunction<number, number, string> {
  private count!: ValueState<number>;

  constructor(private readonly slowMicros: number) {
    super();
  }

  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }

  processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    // A stage that cannot keep up: its input channels stay full, so unaligned checkpoints hold in-flight data.
    const until = performance.now() + this.slowMicros / 1000;
    while (performance.now() < until) {
      // busy
    }
    const count = (this.count.value() ?? 0) + 1;
    this.count.update(count);
    out.collect(`${ctx.key},${n},${count}`);
  }
}

/** Every line an uninterrupted run commits, sorted. */
export function expectedCounts(to: number, keys: number): string[] {
  const counts = new Map<number, number>();
  const lines: string[] = [];
  for (let n = 1; n <= to; n++) {
    const key = n % keys;
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    lines.push(`${key},${n},${count}`);
  }
  return lines.sort();
}

/** Ends this worker thread abruptly once file `when` exists (checked every 64 records), once: the marker makes later attempts pass. */
function crashOnceWhen(when: string, marker: string): (n: number) => number {
  let seen = 0;
  return (n) => {
    if (++seen % 64 === 0 && existsSync(when) && !existsSync(marker)) {
      writeFileSync(marker, `crashed at ${n}`);
      process.exit(17);
    }
    return n;
  };
}

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ mode: 'unaligned', intervalMs: Number(p.intervalMs ?? 40), tolerableFailures: 5, retain: 3 });
  let numbers = env
    .fromSource(Sources.sequence({ from: 1, to: Number(p.to ?? 6_000), ratePerSec: Number(p.rate ?? 8_000) }), 'numbers')
    .setParallelism(1)
    .uid('numbers');
  if (p.crashWhenFile !== undefined) {
    numbers = numbers.map(crashOnceWhen(String(p.crashWhenFile), String(p.crashMarker))).setParallelism(1).uid('crash');
  }
  const keys = Number(p.keys ?? 7);
  numbers
    .keyBy((n) => n % keys)
    .process(new PerKeyCount(Number(p.slowMicros ?? 300)))
    .uid('count')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
