// Interval join on threads: odd numbers (left) join even numbers (right) of the same key (n mod 3)
// within [-5, +10] of event time (= the number). A worker thread is killed once at a chosen record.
import { existsSync, writeFileSync } from 'node:fs';
import { type Collector, defineJob, type ProcessJoinContext, ProcessJoinFunction, Sinks, WatermarkStrategy } from 'baton';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';

export const LOWER = -5;
export const UPPER = 10;
export const KEYS = 3;

class Pair extends ProcessJoinFunction<number, number, string, number> {
  processElement(left: number, right: number, ctx: ProcessJoinContext<number>, out: Collector<string>): void {
    out.collect(`${ctx.key},${left},${right},${ctx.timestamp}`);
  }
}

/** Every line an uninterrupted run over 1..to commits, sorted. */
export function expectedPairs(to: number): string[] {
  const lines: string[] = [];
  for (let left = 1; left <= to; left += 2) {
    for (let right = Math.max(2, left + LOWER); right <= Math.min(to, left + UPPER); right++) {
      if (right % 2 === 0 && right % KEYS === left % KEYS) lines.push(`${left % KEYS},${left},${right},${Math.max(left, right)}`);
    }
  }
  return lines.sort();
}

function crashOnce(at: number, marker: string): (n: number) => number {
  return (n) => {
    if (n === at && !existsSync(marker)) {
      writeFileSync(marker, `crashed at ${n}`);
      process.exit(17);
    }
    return n;
  };
}

export default defineJob((env) => {
  const p = env.params;
  env.setAutoWatermarkInterval(0);
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 30), retain: 3, tolerableFailures: 100 });
  let numbers = env
    .fromSource(pacedSequence({ from: 1, to: Number(p.to), segment: Number(p.segment ?? 250), signals: String(p.pacedBy) }), 'numbers')
    .setParallelism(1)
    .uid('numbers');
  if (p.crashAt !== undefined) numbers = numbers.map(crashOnce(Number(p.crashAt), String(p.crashMarker))).setParallelism(1).uid('crash');
  const timed = numbers
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n))
    .setParallelism(1)
    .uid('event-time');
  const odd = timed.filter((n) => n % 2 === 1).setParallelism(1).uid('odd');
  const even = timed.filter((n) => n % 2 === 0).setParallelism(1).uid('even');
  odd
    .keyBy((n) => n % KEYS)
    .intervalJoin(even.keyBy((n) => n % KEYS))
    .between(LOWER, UPPER)
    .process(new Pair())
    .uid('join')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
