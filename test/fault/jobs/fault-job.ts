// The job of the seeded kill schedules: keyed state, timers or windows into the transactional file sink.
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import {
  type Collector,
  type DataStream,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type MapState,
  type OnTimerContext,
  Sinks,
  type ValueState,
  WatermarkStrategy,
} from 'baton';
import { RunningSum } from '../../e2e/jobs/checkpointed-sum.ts';
import { clicksPerMinute } from '../../e2e/jobs/event-time-windows.ts';
import { BUCKET, KILL_SLOTS } from '../fault-variants.ts';
import { pacedSequence } from './paced-sequence.ts';

/**
 * Sums each key's numbers per bucket of `BUCKET` (event time = the number): an event-time timer
 * at the bucket's end emits `key,end,sum`. All of a bucket's records precede the watermark that
 * fires it, so the output does not depend on when the timer fires.
 */
class BucketSums extends KeyedProcessFunction<number, number, string> {
  private sums!: MapState<number, number>;
  private seen!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.sums = ctx.mapState<number, number>('bucket-sums');
    this.seen = ctx.valueState<number>('seen');
  }

  processElement(n: number, ctx: KeyedProcessContext<number>, _out: Collector<string>): void {
    const end = (Math.floor(n / BUCKET) + 1) * BUCKET;
    const sum = this.sums.get(end);
    if (sum === undefined) ctx.timerService.registerEventTimeTimer(end);
    this.sums.put(end, (sum ?? 0) + n);
    this.seen.update((this.seen.value() ?? 0) + 1);
  }

  override onTimer(end: number, ctx: OnTimerContext<number>, out: Collector<string>): void {
    out.collect(`${ctx.key},${end},${this.sums.get(end) ?? 0}`);
    this.sums.remove(end);
  }
}

function spin<T>(micros: number, value: T): T {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until) {
    // busy: a stage that cannot keep up, so the channels into it stay full
  }
  return value;
}

/**
 * In a worker thread, ends the thread (process.exit ends only the thread) once a test creates
 * `<signals>/kill-<i>`: the first thread to claim `<signals>/claimed-<i>` exits, each i once.
 * A file the test creates on an event, so the kill lands where the test is, not at a guessed time.
 */
function watchForWorkerKill(signals: string): void {
  if (isMainThread) return;
  const timer = setInterval(() => {
    for (let i = 1; i <= KILL_SLOTS; i++) {
      if (!existsSync(join(signals, `kill-${i}`))) continue;
      try {
        closeSync(openSync(join(signals, `claimed-${i}`), 'wx'));
      } catch {
        continue;
      }
      process.exit(17);
    }
  }, 2);
  timer.unref();
}

/** Announces the end of the input: the source chain passed its last number. */
function announceLast(signals: string, last: number): (n: number) => number {
  return (n) => {
    if (n === last) writeFileSync(join(signals, 'input-ended'), String(n));
    return n;
  };
}

export default defineJob((env) => {
  const p = env.params;
  const signals = String(p.signals);
  const to = Number(p.to);
  const slowMicros = Number(p.slowMicros ?? 0);
  // The windows variant reads 0..to-1 (like the e2e window jobs), the others 1..to.
  const from = p.variant === 'windows' ? 0 : 1;
  const last = from + to - 1;
  watchForWorkerKill(signals);
  env.setAutoWatermarkInterval(0);
  env.enableCheckpointing({
    mode: p.mode === 'unaligned' ? 'unaligned' : 'aligned',
    intervalMs: Number(p.intervalMs ?? 30),
    tolerableFailures: 1_000,
    retain: 3,
    materialization: { maxDeltas: 3 },
  });
  const numbers = env
    .fromSource(pacedSequence({ from, to: last, segment: Number(p.segment), signals }), 'numbers')
    .setParallelism(1)
    .uid('numbers')
    .map(announceLast(signals, last))
    .setParallelism(1)
    .uid('announce');
  let lines: DataStream<string>;
  if (p.variant === 'windows') {
    lines = clicksPerMinute(numbers).map((w) => JSON.stringify(w)).uid('to-line');
  } else if (p.variant === 'timers') {
    lines = numbers
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n))
      .setParallelism(1)
      .uid('timestamps')
      .keyBy((n) => n % Number(p.keys))
      .process(new BucketSums())
      .uid('buckets');
  } else {
    lines = numbers
      .keyBy((n) => n % Number(p.keys))
      .process(new RunningSum())
      .uid('sum');
  }
  lines
    // With backpressure: a slow stage keeps the channels into it (and behind it) full.
    .map((line) => (slowMicros > 0 ? spin(slowMicros, line) : line))
    .setParallelism(1)
    .uid('slow')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
