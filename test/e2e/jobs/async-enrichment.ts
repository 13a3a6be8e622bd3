// asyncMap on worker threads: a deliberately slow async lookup (real latency) between a paced sequence and a transactional file sink.
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMainThread } from 'node:worker_threads';
import { defineJob, Sinks } from 'baton';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';

/** What the lookup answers for n (deterministic, so an uninterrupted run's output is known). */
export function enrichment(n: number): string {
  return `${n},${(n * 7919) % 1000}`;
}

/** Every line an uninterrupted run over 1..to commits, sorted. */
export function expectedEnrichment(to: number): string[] {
  return Array.from({ length: to }, (_, i) => enrichment(i + 1)).sort();
}

/**
 * In a worker thread, ends the thread once file `when` exists, once: the first thread to create
 * `marker` exclusively exits. Checked every 2 ms, so it lands while requests are in flight.
 */
function crashOnceWhen(when: string, marker: string): void {
  if (isMainThread) return;
  const timer = setInterval(() => {
    if (!existsSync(when) || existsSync(marker)) return;
    try {
      closeSync(openSync(marker, 'wx'));
    } catch {
      return;
    }
    writeFileSync(marker, 'crashed with requests in flight');
    process.exit(17);
  }, 2);
  timer.unref();
}

export default defineJob((env) => {
  const p = env.params;
  const to = Number(p.to);
  if (p.crashWhenFile !== undefined) crashOnceWhen(String(p.crashWhenFile), String(p.crashMarker));
  env.enableCheckpointing({ mode: p.mode === 'unaligned' ? 'unaligned' : 'aligned', intervalMs: 30, tolerableFailures: 100, retain: 1_000 });
  const latencyMs = Number(p.latencyMs ?? 5);
  env
    .fromSource(pacedSequence({ from: 1, to, segment: Number(p.segment ?? 250), signals: String(p.pacedBy), ratePerSec: p.rate === undefined ? undefined : Number(p.rate) }), 'numbers')
    .uid('numbers')
    .rebalance()
    .asyncMap(
      async (n: number) => {
        // A slow service: every request takes real time, so checkpoints catch requests in flight.
        await sleep(latencyMs);
        return enrichment(n);
      },
      { ordered: p.ordered !== 'false', capacity: Number(p.capacity ?? 8), timeoutMs: 10_000 },
    )
    .uid('lookup')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
