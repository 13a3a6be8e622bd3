// A job for shadow handovers: a live gated log (out of order in event time), an optional idle second source, a keyed running count and event-time windows, two file sinks with shadow destinations.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, TumblingEventTimeWindows, type ValueState } from 'baton';
import { crashOnceWhen } from '../../support/crash-once.ts';
import { gatedLog, type LogRecord } from '../../support/gated-log.ts';

/** Records per key: a key is one split's records with the same index modulo this. */
export const KEY_SPREAD = 5;
/** Event-time window size of the window sink. */
export const WINDOW_MS = 200;

/** Per key: how many records and the sum of their indexes, one line per record, tagged with the deployment's code version. */
export class RunningCount extends KeyedProcessFunction<string, LogRecord, string> {
  private count!: ValueState<number>;
  private sum!: ValueState<number>;

  constructor(private readonly version: string) {
    super();
  }

  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
    this.sum = ctx.valueState<number>('sum');
  }

  processElement(r: LogRecord, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const count = (this.count.value() ?? 0) + 1;
    const sum = (this.sum.value() ?? 0) + r.i;
    this.count.update(count);
    this.sum.update(sum);
    out.collect(`${this.version}|${ctx.key}|${r.log}:${r.s}:${r.i}|${count}|${sum}`);
  }
}

export default defineJob((env) => {
  const p = env.params;
  // Param `minPauseMs` (huge): this deployment never completes a checkpoint (a promoted shadow stays before its cut checkpoint).
  env.enableCheckpointing({ mode: 'aligned', intervalMs: Number(p.intervalMs ?? 100), retain: Number(p.retain ?? 3), minPauseMs: p.minPauseMs === undefined ? undefined : Number(p.minPauseMs) });
  const version = String(p.version ?? 'A');
  // Param `ownGate`: this deployment reads the event log only as far as that gate is open too (it lags).
  const own = p.ownGate === undefined ? {} : { ownGate: String(p.ownGate) };
  const log = (name: string, gate: string, splits: number, extra = {}) => gatedLog({ name, splits, perSplit: Number(p.perSplit ?? 100_000), segment: Number(p.segment ?? 100), gate, ...extra });
  const events = env
    .fromSource(log('ev', String(p.gate), Number(p.splits ?? 4), own), 'events')
    .setParallelism(Number(p.sourceParallelism ?? env.parallelism))
    .uid('events');
  let all = events;
  // Param `idleGate`: a second source whose gate the test opens once (or never): it idles while the other one flows.
  if (p.idleGate !== undefined) all = events.union(env.fromSource(log('idle', String(p.idleGate), 1), 'idle').setParallelism(1).uid('idle'));
  if (p.crashWhenFile !== undefined) all = all.map(crashOnceWhen<LogRecord>(String(p.crashWhenFile), String(p.crashMarker), 8)).uid('crash');
  const shadow = p.shadowOut === undefined ? undefined : String(p.shadowOut);
  const lines = all
    .keyBy((r) => `${r.log}-${r.s}-${r.i % KEY_SPREAD}`)
    .process(new RunningCount(version))
    .uid('count')
    .sinkTo(Sinks.file<string>({ path: `${p.out}/lines`, format: (line) => line }))
    .uid('lines');
  if (shadow) lines.shadowTo(Sinks.file<string>({ path: `${shadow}/lines`, format: (line) => line }));
  const windows = events
    .keyBy((r) => `${r.log}-${r.s}`)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .aggregate(
      { createAccumulator: () => 0, add: (_r: LogRecord, n: number) => n + 1, getResult: (n: number) => n, merge: (a: number, b: number) => a + b },
      (key: string, window: { start: number; end: number }, count: number) => `${version}|w|${key}|${window.start}|${count}`,
    )
    .uid('window')
    .sinkTo(Sinks.file<string>({ path: `${p.out}/windows`, format: (line) => line }))
    .uid('windows');
  if (shadow) windows.shadowTo(Sinks.file<string>({ path: `${shadow}/windows`, format: (line) => line }));
});
