// Side outputs, explicit partitionings, a non-keyed process and rolling aggregations on worker threads,
// for a kill test: evens (main output) → rolling sum per key; odds (side output) → shuffle; hundreds →
// broadcast; multiples of 3 → global() → process (with a side output) → minBy / maxBy per sensor.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, OutputTag, param, type ProcessContext, ProcessFunction, Sinks } from 'baton';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';
import { crashOnceWhen } from '../../support/crash-once.ts';

export const odd = new OutputTag<number>('odd');

class SplitParity extends KeyedProcessFunction<number, number, number> {
  processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<number>): void {
    if (n % 2 === 0) out.collect(n);
    else ctx.output(odd, n);
  }
}

export const small = new OutputTag<number>('small');

/** Non-keyed process: multiples of 3 as readings on the main output; those under 30 also on a side output. */
class Readings extends ProcessFunction<number, { sensor: number; value: number }> {
  processElement(n: number, ctx: ProcessContext, out: Collector<{ sensor: number; value: number }>): void {
    if (n % 3 !== 0) return;
    out.collect({ sensor: n % 5, value: (n * 7919) % 1_000 });
    if (n < 30) ctx.output(small, n);
  }
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
    // A non-keyed process behind `global()` (everything to its subtask 0, in source order), then the
    // lowest and highest reading per sensor so far: each output depends on every earlier reading of
    // its sensor, so a lost or repeated one shows.
    const readings = numbers.global().process(new Readings()).uid('readings').setParallelism(2);
    const bySensor = readings.keyBy((r) => r.sensor);
    bySensor
      .minBy('value')
      .uid('lowest')
      .map((r) => `min ${r.sensor} ${r.value}`)
      .uid('format-min')
      .sinkTo(Sinks.file<string>({ path: `${p.output}/extremes`, format: (l) => l }))
      .uid('min-out');
    readings
      .keyBy((r) => r.sensor)
      .maxBy('value')
      .uid('highest')
      .map((r) => `max ${r.sensor} ${r.value}`)
      .uid('format-max')
      .sinkTo(Sinks.file<string>({ path: `${p.output}/extremes-max`, format: (l) => l }))
      .uid('max-out');
    readings
      .getSideOutput(small)
      .map((n) => `small ${n}`)
      .uid('format-small')
      .sinkTo(Sinks.file<string>({ path: `${p.output}/small`, format: (l) => l }))
      .uid('small-out');
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
