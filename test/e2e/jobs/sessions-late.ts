// The sessionization example's pipeline with exactly-once file sinks, for kill tests: param `pacedBy` paces the
// input by checkpoints (see pacedSequence), `crashWhenFile` ends a worker thread once that file exists.
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { defineJob, Sinks, Sources } from 'baton';
import { pageView, sessionize } from '../../../examples/sessionization.ts';
import { pacedSequence } from '../../fault/jobs/paced-sequence.ts';

/**
 * In a worker thread, ends the thread (process.exit ends only the thread) once `when` exists, once:
 * the first thread to create `marker` exclusively exits, later attempts and other threads pass.
 * Checked every 2 ms, so the test picks the moment by creating the file on an event.
 */
function crashOnceWhen(when: string, marker: string): void {
  if (isMainThread) return;
  setInterval(() => {
    if (!existsSync(when) || existsSync(marker)) return;
    try {
      closeSync(openSync(marker, 'wx'));
    } catch {
      return;
    }
    writeFileSync(marker, 'crashed');
    process.exit(17);
  }, 2).unref();
}

export default defineJob((env) => {
  const p = env.params;
  const count = Number(p.views ?? 30_000);
  env.setAutoWatermarkInterval(0);
  env.enableCheckpointing({ intervalMs: Number(p.intervalMs ?? 30), tolerableFailures: 100, retain: 3 });
  if (p.crashWhenFile !== undefined) crashOnceWhen(String(p.crashWhenFile), String(p.crashMarker));
  const source =
    p.pacedBy === undefined
      ? Sources.sequence({ from: 0, to: count - 1 })
      : pacedSequence({ from: 0, to: count - 1, segment: Number(p.segment ?? 2_000), signals: String(p.pacedBy) });
  const views = env.fromSource(source, 'views').setParallelism(1).uid('views').map(pageView).setParallelism(1).uid('parse');
  const { sessions, late } = sessionize(views);
  sessions.sinkTo(Sinks.file({ path: `${p.output}/sessions`, format: (s) => JSON.stringify(s) })).uid('sessions-out');
  late.sinkTo(Sinks.file({ path: `${p.output}/late`, format: (v) => JSON.stringify(v) })).uid('late-out');
});
