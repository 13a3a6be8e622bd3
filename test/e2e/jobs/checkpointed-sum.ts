// A checkpointed job: a rate-limited sequence, a keyed running sum in state, a transactional file sink.
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';
import { registerContestedScheme } from '../../support/contested-storage.ts';
import { registerFaultyFileScheme } from '../../support/faulty-file-storage.ts';
import { registerLaggingSchemes } from '../../support/lagging-storage.ts';
import { onRestoredFlushSlice } from '../../../src/internal.ts';
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, Sinks, Sources, type ValueState } from 'baton';

export class RunningSum extends KeyedProcessFunction<number, number, string> {
  private sum!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.sum = ctx.valueState<number>('sum');
  }

  processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    const sum = (this.sum.value() ?? 0) + n;
    this.sum.update(sum);
    out.collect(`${ctx.key},${n},${sum}`);
  }
}

/** Ends this worker thread abruptly at record `at`, once: the marker file makes later attempts pass. */
function crashOnce(n: number, at: number, marker: string): number {
  if (n === at && !existsSync(marker)) {
    writeFileSync(marker, `crashed at ${n}`);
    process.exit(17);
  }
  return n;
}

/**
 * Ends a worker thread abruptly once file `when` exists, once: the marker file (created
 * exclusively, so only one thread wins) makes later attempts pass. Checked every 64 records and,
 * in worker threads, every 2 ms, so it also lands while the input waits. Lets a test choose the
 * moment of the kill without timing.
 */
function crashOnceWhen(when: string, marker: string): (n: number) => number {
  const crash = (at: string) => {
    if (!existsSync(when) || existsSync(marker)) return;
    try {
      closeSync(openSync(marker, 'wx'));
    } catch {
      return;
    }
    writeFileSync(marker, `crashed at ${at}`);
    process.exit(17);
  };
  if (!isMainThread) setInterval(() => crash('a check while idle'), 2).unref();
  let seen = 0;
  return (n) => {
    if (++seen % 64 === 0) crash(`record ${n}`);
    return n;
  };
}

/**
 * Ends this worker thread abruptly in the middle of a background flush of restored state (a
 * handover's stage 2): right after a flush transaction that left entries to write, once (the
 * marker file, created exclusively, makes later attempts and other threads pass).
 */
let flushCrashArmed = false;
function crashOnceMidFlush(marker: string): void {
  if (isMainThread || flushCrashArmed) return;
  flushCrashArmed = true;
  onRestoredFlushSlice((slice) => {
    if (slice.remaining === 0) return;
    try {
      closeSync(openSync(marker, 'wx'));
    } catch {
      return;
    }
    writeFileSync(marker, `crashed after a flush slice of ${slice.entries} entries, ${slice.remaining} left`);
    process.exit(17);
  });
}

function spin<T>(micros: number, value: T): T {
  const until = performance.now() + micros / 1000;
  while (performance.now() < until) {
    // busy: a stage that cannot keep up
  }
  return value;
}

export default defineJob((env) => {
  const p = env.params;
  // `faultyfile:` checkpoint storage: writes fail (EIO, ENOSPC) at this rate, in every thread.
  if (p.fileFaultRate !== undefined) {
    registerFaultyFileScheme({ rate: Number(p.fileFaultRate), kinds: ['EIO', 'ENOSPC'], seed: Number(p.faultSeed ?? 1), log: String(p.faultLog) });
  }
  // `contested:` checkpoint storage: another run wins the create of this checkpoint's _metadata.
  if (p.contestedCheckpoint !== undefined) registerContestedScheme(Number(p.contestedCheckpoint));
  // `lagfile:` / `lags3:` checkpoint storage: chunk reads lag `lagBy` checkpoints behind the writer.
  if (p.lagBy !== undefined) registerLaggingSchemes({ lag: Number(p.lagBy), until: Number(p.lagUntil), dropPins: p.lagDropPins === 'true' });
  env.enableCheckpointing({
    mode: p.mode === 'unaligned' ? 'unaligned' : 'aligned',
    alignedTimeoutMs: p.alignedTimeoutMs === undefined ? undefined : Number(p.alignedTimeoutMs),
    intervalMs: Number(p.intervalMs ?? 40),
    tolerableFailures: Number(p.tolerableFailures ?? 5),
    timeoutMs: p.checkpointTimeoutMs === undefined ? undefined : Number(p.checkpointTimeoutMs),
    // A huge pause keeps a deployment from completing any checkpoint (a handover successor that must not pass probation).
    minPauseMs: p.minPauseMs === undefined ? undefined : Number(p.minPauseMs),
    retain: Number(p.retain ?? 3),
    materialization: { maxDeltas: Number(p.maxDeltas ?? 10) },
    unaligned: p.spill === 'continuous' ? { spill: 'continuous', flushMs: 20, segmentBytes: 64 * 1024 } : undefined,
  });
  const to = Number(p.to ?? 6_000);
  // Param `pacedBy`: the input advances `segment` numbers per checkpoint the test announces in that
  // directory (see pacedSequence), so it cannot run out before the checkpoints a test waits for.
  const source = p.pacedBy === undefined ? Sources.sequence({ from: 1, to, ratePerSec: Number(p.rate ?? 12_000) }) : pacedSequence({ from: 1, to, segment: Number(p.segment ?? 500), signals: String(p.pacedBy), ratePerSec: p.rate === undefined ? undefined : Number(p.rate) });
  let numbers = env
    .fromSource(source, 'numbers')
    .setParallelism(1)
    .uid('numbers');
  if (p.crashAt !== undefined) {
    const at = Number(p.crashAt);
    const marker = String(p.crashMarker);
    numbers = numbers.map((n) => crashOnce(n, at, marker)).setParallelism(1).uid('crash');
  }
  if (p.crashMidFlush !== undefined) crashOnceMidFlush(String(p.crashMidFlush));
  if (p.crashWhenFile !== undefined) {
    numbers = numbers.map(crashOnceWhen(String(p.crashWhenFile), String(p.crashMarker))).setParallelism(1).uid('crash');
  }
  const slowMicros = Number(p.slowMicros ?? 0);
  // Many keys (param `keys`) make checkpoints whose deltas hold only some of the state.
  const keys = Number(p.keys ?? 7);
  numbers
    .keyBy((n) => n % keys)
    .process(new RunningSum())
    .uid('sum')
    // A slow stage keeps the channels into it full: checkpoints then have in-flight data.
    .map((line) => (slowMicros > 0 ? spin(slowMicros, line) : line))
    .setParallelism(1)
    .uid('slow')
    .sinkTo(p.sink === 'discard' ? Sinks.discard<string>() : Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
