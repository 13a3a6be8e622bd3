// A bounded forward pipeline at parallelism 2 where subtask 0's input ends first and subtask 1 then fails once.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineJob, Sinks, type Source, type SourceReader, Sources } from 'baton';

/** `Sources.sequence`, plus a file `ended-<subtask>` in `dir` once a subtask's reader read its split to the end. */
function sequenceMarkingEnd(to: number, ratePerSec: number, dir: string): Source<number> {
  const inner = Sources.sequence({ from: 1, to, ratePerSec });
  return {
    kind: 'sequence-marking-end',
    validate: () => inner.validate(),
    createSplits: (parallelism) => inner.createSplits(parallelism),
    createReader(split, ctx): SourceReader<number> {
      const reader = inner.createReader(split, ctx);
      const mark = () => {
        if (!reader.finished) return;
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `ended-${ctx.subtaskIndex}`), '');
      };
      return {
        get finished() {
          return reader.finished;
        },
        poll(max, emit) {
          const polled = reader.poll(max, emit);
          if (typeof polled === 'number') {
            mark();
            return polled;
          }
          return polled.then((n) => {
            mark();
            return n;
          });
        },
        currentSplit: () => reader.currentSplit(),
        close: () => reader.close(),
      };
    },
  };
}

/** Blocks this worker thread for `ms` (the record being processed waits; other threads go on). */
function sleepThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * On record `at`, in the first attempt only (the file `marker` is written first): waits until
 * `ended` exists (another subtask's input ended), then throws. Synchronizes on that file, not on time.
 */
function failOnceAfter(at: number, ended: string, marker: string): (n: number) => number {
  return (n) => {
    if (n !== at || existsSync(marker)) return n;
    for (let waited = 0; !existsSync(ended) && waited < 60_000; waited += 5) sleepThread(5);
    writeFileSync(marker, `failed at ${n}`);
    throw new Error(`failing once at record ${n}, after the other subtask's input ended`);
  };
}

export default defineJob((env) => {
  const p = env.params;
  const to = Number(p.to ?? 4_000);
  const markers = String(p.markers);
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 30), tolerableFailures: 5, retain: 3 });
  env
    .fromSource(sequenceMarkingEnd(to, Number(p.rate ?? 8_000), markers), 'numbers')
    .uid('numbers')
    // Sequence splits are contiguous: with parallelism 2, subtask 1 reads the upper half.
    .map(failOnceAfter(Number(p.failAt ?? to - 20), join(markers, 'ended-0'), join(markers, 'failed')))
    .uid('fail-once')
    .sinkTo(Sinks.file<number>({ path: String(p.output), format: (n) => String(n) }))
    .uid('out');
});
