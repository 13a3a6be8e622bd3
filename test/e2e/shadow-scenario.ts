// One shadow handover from start to end, for the cut tests: A live, B in shadow, B promoted at a cut, B runs on alone.
import { join } from 'node:path';
import { type JobHandle, type JobResult, openStorage, readMetadata, type RunJobOptions, runJob } from '../../src/index.ts';
import type { CheckpointMetadata } from '../../src/checkpoint/types.ts';
import { committedLines } from './checkpoint-helpers.ts';
import { jobUrl } from './helpers.ts';
import { checkpointed, expectedLines, handoverEvent, hasRecords, logGate, reached, sourceRead, untilAfter } from './shadow-helpers.ts';

export const SEGMENT = 50;
export const SPLITS = 4;

export interface ScenarioOptions {
  readonly dir: string;
  readonly jobId: string;
  readonly storage: string;
  readonly parallelismA: number;
  readonly parallelismB: number;
  /** The code version of B's output (A's is 'A'). */
  readonly versionB: string;
  /** A second source that idles: its gate opens segment 0 only, before A starts. */
  readonly idleSource?: boolean;
  /**
   * Which deployment is behind when B is promoted. `'B'`: B may read 4 segments, A 6: B holds
   * behind A and reads on exactly to A's stop checkpoint. `'A'`: A may read 4, B 6: B holds ahead
   * of A and waits until A's checkpoints pass its positions. Either way the lagging side's own gate
   * opens on B's 'held' event, so the order is certain on any machine.
   */
  readonly lagging: 'A' | 'B';
  /** Extra handover options of B (a guard, say). */
  readonly handover?: RunJobOptions['handover'];
}

export interface ScenarioRun {
  readonly a: JobResult;
  readonly b: JobResult;
  /** A's stop checkpoint, where the cut is. */
  readonly cut: CheckpointMetadata;
  /** Records of every split released to the lagging side when B was promoted (B holds there, or past it). */
  readonly laggingAt: number;
  /** The committed output of A and of B (sorted), per sink. */
  readonly committed: { readonly a: { lines: string[]; windows: string[] }; readonly b: { lines: string[]; windows: string[] } };
  /** What one uninterrupted run commits over the same input, with A's version before the cut and B's after. */
  readonly expected: { lines: string[]; windows: string[] };
}

/**
 * A runs on the gated log (segments 0-1 open); once it completed 2 checkpoints B starts in shadow;
 * segments 2-5 open (the lagging side may read 2-3 only); once both read what they may, B is
 * promoted; on B's hold the lagging side may read on; once B runs, segments 6-7 open; A ends at
 * its stop checkpoint (SUSPENDED), B reads everything and is stopped with `terminate` (every
 * window fires). Every wait is on an event of A or B.
 */
export async function shadowScenario(o: ScenarioOptions): Promise<ScenarioRun> {
  const gate = logGate(join(o.dir, 'gate'));
  gate.openThrough(1);
  const idle = o.idleSource ? logGate(join(o.dir, 'idle-gate')) : undefined;
  idle?.openThrough(0);
  const lagGate = logGate(join(o.dir, 'lag-gate'));
  lagGate.openThrough(3);
  const own = (who: 'A' | 'B'): Record<string, string> => (o.lagging === who ? { ownGate: lagGate.dir } : {});
  const params = (version: string, out: string, who: 'A' | 'B') => ({ version, out, gate: gate.dir, segment: SEGMENT, splits: SPLITS, intervalMs: 50, ...(idle ? { idleGate: idle.dir } : {}), ...own(who) });
  const common = { jobId: o.jobId, checkpointStorage: o.storage, metricsIntervalMs: 50 };
  const a = await runJob(jobUrl('shadow-job'), { ...common, parallelism: o.parallelismA, params: params('A', join(o.dir, 'out-a'), 'A'), stopRequestPollMs: 20, handoverPollMs: 10 });
  await checkpointed(a, 2);
  const b: JobHandle = await runJob(jobUrl('shadow-job'), {
    ...common,
    parallelism: o.parallelismB,
    params: { ...params(o.versionB, join(o.dir, 'out-b'), 'B'), shadowOut: join(o.dir, 'shadow-b') },
    handover: { mode: 'shadow', pollMs: 20, leaseMs: 3_000, shadow: { sampleEveryMs: 50, sampleSize: 10 }, ...o.handover },
  });
  // A's stop checkpoint, read as soon as B cuts at it (before B's retention may discard it).
  const storage = openStorage(`${o.storage}/${o.jobId}`);
  const cutRead = handoverEvent(b, (e) => e.phase === 'cut').then((e) => readMetadata(storage, e.checkpointId!));
  cutRead.catch(() => undefined);
  await reached(b, 'SHADOW');
  gate.openThrough(5);
  const ahead = 6 * SEGMENT;
  const behind = 4 * SEGMENT;
  // Both read all they may: A from the start (its counters), B in shadow (its shadow output).
  await Promise.all([
    sourceRead(a, 'events', SPLITS * (o.lagging === 'A' ? behind : ahead)),
    untilAfter(b, 'shadow-sample', () => hasRecords(committedLines(join(o.dir, 'shadow-b', 'lines')), 'ev', SPLITS, (o.lagging === 'B' ? behind : ahead) - 1)),
  ]);
  // B's sources hold where they are: only then may the lagging side read on.
  const held = handoverEvent(b, (e) => e.phase === 'held').then(() => lagGate.openThrough(7));
  b.promote();
  await held;
  await reached(b, 'RUNNING');
  gate.openThrough(7);
  const resultA = await a.done;
  const records = 8 * SEGMENT;
  await new Promise<void>((resolve) => {
    const check = () => hasRecords(committedLines(join(o.dir, 'out-b', 'lines')), 'ev', SPLITS, records - 1) && resolve();
    b.on('checkpoint', check);
    check();
  });
  const resultB = await b.stop({ mode: 'terminate' });
  const cut = await cutRead;
  const positions = new Map<string, number>();
  for (const op of cut.operators) for (const s of op.subtasks) for (const split of (s.state as { splits?: Array<{ id: string; offset: number }> } | null)?.splits ?? []) positions.set(split.id, split.offset);
  const logs = [{ log: 'ev', splits: SPLITS, records }, ...(idle ? [{ log: 'idle', splits: 1, records: SEGMENT }] : [])];
  const expected = expectedLines(logs, (log, s) => positions.get(`${log}-${s}`) ?? Number.POSITIVE_INFINITY, 'A', o.versionB);
  const read = (who: string) => ({ lines: committedLines(join(o.dir, `out-${who}`, 'lines')), windows: committedLines(join(o.dir, `out-${who}`, 'windows')) });
  return { a: resultA, b: resultB, cut, laggingAt: behind, committed: { a: read('a'), b: read('b') }, expected };
}
