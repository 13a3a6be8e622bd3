// Keyed state with TTL and operator list state on worker threads: numbers are grouped into batches
// of 5 by a rich flatMap whose buffer is operator state, then summed per key in TTL'd value, map,
// list and aggregating state, into the transactional file sink. Params are declared.
import {
  type AggregatingState,
  type Collector,
  type Counter,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type ListState,
  type MapState,
  param,
  RichFlatMapFunction,
  type RichRuntimeContext,
  Sinks,
  type ValueState,
} from 'baton';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';
import { crashOnceWhen } from '../../support/crash-once.ts';

export const BATCH = 5;
export const KEYS = 7;
/**
 * Long enough that nothing expires in a test run: the run checks that TTL'd state survives kill and
 * restore unchanged. Refreshed on reads (every read writes, so those states are in every delta) …
 */
const TTL = { ttl: { ms: 60 * 60_000, update: 'on-read-and-write' as const } };
/** … or only when written: `first` is written once per key, so after a new base it lives in the base alone. */
const TTL_ONCE = { ttl: { ms: 60 * 60_000 } };

/** Groups consecutive numbers into batches; the partial batch is operator state, so a restore resumes it. */
export class Batches extends RichFlatMapFunction<number, number[]> {
  private buffer!: ListState<number>;
  private emitted!: Counter;
  override open(ctx: RichRuntimeContext): void {
    this.buffer = ctx.operatorState.listState<number>('buffer');
    this.emitted = ctx.metrics.counter('batches');
  }
  flatMap(n: number, out: Collector<number[]>): void {
    this.buffer.add(n);
    const buffered = this.buffer.get();
    if (buffered.length < BATCH) return;
    out.collect([...buffered]);
    this.buffer.clear();
    this.emitted.inc();
  }
}

/** Per key: running sum, first batch seen, the last three batches' first numbers, and a batch count. */
export class TtlSums extends KeyedProcessFunction<number, number[], string> {
  private sum!: ValueState<number>;
  private first!: MapState<string, number>;
  private recent!: ListState<number>;
  private count!: AggregatingState<number[], number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.sum = ctx.valueState<number>('sum', TTL);
    this.first = ctx.mapState<string, number>('first', TTL_ONCE);
    this.recent = ctx.listState<number>('recent', TTL);
    this.count = ctx.aggregatingState('count', { createAccumulator: () => 0, add: (_b: number[], n: number) => n + 1, getResult: (n: number) => n }, TTL);
  }
  processElement(batch: number[], ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    const sum = (this.sum.value() ?? 0) + batch.reduce((a, b) => a + b, 0);
    this.sum.update(sum);
    if (!this.first.contains('batch')) this.first.put('batch', batch[0]);
    this.recent.update([...this.recent.get(), batch[0]].slice(-3));
    this.count.add(batch);
    out.collect(`${ctx.key},${batch[0]},${sum},${this.count.get()},${this.first.get('batch')},${this.recent.get().join('|')}`);
  }
}

/** What one uninterrupted run commits for numbers 1..to, sorted. */
export function expectedLines(to: number): string[] {
  const sums = new Map<number, { sum: number; count: number; first: number; recent: number[] }>();
  const lines: string[] = [];
  for (let start = 1; start + BATCH - 1 <= to; start += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, i) => start + i);
    const key = keyOf(batch);
    const s = sums.get(key) ?? { sum: 0, count: 0, first: start, recent: [] };
    sums.set(key, s);
    s.sum += batch.reduce((a, b) => a + b, 0);
    s.count++;
    s.recent = [...s.recent, start].slice(-3);
    lines.push(`${key},${start},${s.sum},${s.count},${s.first},${s.recent.join('|')}`);
  }
  return lines.sort();
}

export function keyOf(batch: readonly number[]): number {
  return ((batch[0] - 1) / BATCH) % KEYS;
}

export default defineJob(
  {
    params: {
      output: param.string({ required: true, description: 'directory of the committed part files' }),
      to: param.number({ default: 3_000, integer: true, min: BATCH }),
      segment: param.number({ default: 300, integer: true, min: 1 }),
      pacedBy: param.string({ required: true, description: 'directory where the test announces ended checkpoints' }),
      crashWhenFile: param.string(),
      crashMarker: param.string(),
      intervalMs: param.number({ default: 30, min: 1 }),
    },
  },
  (env, p) => {
    env.enableCheckpointing({ intervalMs: p.intervalMs, tolerableFailures: 100, retain: 3, materialization: { maxDeltas: 2 } });
    // Source, crash stage and batches at parallelism 1, chained: batches of consecutive numbers in any run.
    let numbers = env.fromSource(pacedSequence({ from: 1, to: p.to, segment: p.segment, signals: p.pacedBy }), 'numbers').uid('numbers');
    if (p.crashWhenFile !== undefined) numbers = numbers.map(crashOnceWhen(p.crashWhenFile, p.crashMarker ?? `${p.crashWhenFile}.done`)).setParallelism(1).uid('crash');
    numbers
      .flatMap(new Batches())
      .setParallelism(1)
      .uid('batches')
      .keyBy(keyOf)
      .process(new TtlSums())
      .uid('sums')
      .setParallelism(2)
      .sinkTo(Sinks.file<string>({ path: p.output, format: (line) => line }))
      .uid('out');
  },
);
