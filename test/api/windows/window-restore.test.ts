// Windows across a checkpoint with testJob: a crash mid-window and a restore at another parallelism commit
// exactly what an uninterrupted run commits (sessions open across the cut, late records, count windows);
// processing-time windows keep their contents and timers.
import { describe, expect, it } from 'vitest';
import {
  type Collector,
  defineJob,
  EventTimeSessionWindows,
  OutputTag,
  type ProcessWindowContext,
  ProcessWindowFunction,
  Sinks,
  Sources,
  TumblingProcessingTimeWindows,
} from '../../../src/index.ts';
import { type TestDriver, testJob } from '../../../src/testing/index.ts';

interface Visit {
  readonly user: string;
  readonly page: number;
}

const late = new OutputTag<Visit>('late-visits');
const pages = {
  createAccumulator: (): number[] => [],
  add: (v: Visit, acc: number[]) => [...acc, v.page],
  getResult: (acc: number[]) => acc,
  merge: (a: number[], b: number[]) => [...a, ...b],
};

class Session extends ProcessWindowFunction<number[], string, string> {
  process(user: string, ctx: ProcessWindowContext, results: readonly number[][], out: Collector<string>): void {
    out.collect(`${user} [${ctx.window.start},${ctx.window.end}) ${results[0].join(' ')}`);
  }
}

const sessionJob = defineJob((env) => {
  env.enableCheckpointing({ intervalMs: 60_000 });
  const visits = env.fromSource(Sources.elements<Visit>([]), 'visits').uid('visits');
  const sessions = visits
    .keyBy((v) => v.user)
    .window(EventTimeSessionWindows.withGap(1_000))
    .allowedLateness(2_000)
    .sideOutputLateData(late)
    .aggregate(pages, new Session())
    .uid('sessions');
  sessions.sinkTo(Sinks.collect()).uid('out');
  sessions.getSideOutput(late).map((v) => `late ${v.user} ${v.page}`).uid('late-lines').sinkTo(Sinks.collect()).uid('late-out');
  visits
    .keyBy((v) => v.user)
    .countWindow(3, 2)
    .reduce((a, b) => ({ user: a.user, page: a.page + b.page }), (user, w, v) => `${user}#${w.index}=${v.page}`)
    .uid('counts')
    .sinkTo(Sinks.collect())
    .uid('count-out');
});

type Step = { readonly visits: ReadonlyArray<readonly [string, number, number]> } | { readonly watermark: number };

const steps: Step[] = [
  { visits: [['ann', 1, 0], ['bob', 2, 100], ['ann', 3, 500], ['cid', 4, 700]] },
  { watermark: 400 },
  { visits: [['ann', 5, 1_200], ['bob', 6, 2_500], ['dan', 7, 3_000]] },
  { watermark: 2_000 }, // bob [100,1100) and cid [700,1700) fire; ann [0,2200) is open
  // --- checkpoint here; the crash comes after the next four steps, which the restore replays ---
  { visits: [['bob', 8, 50]] }, // late within lateness: bob's fired session re-fires with it
  { visits: [['ann', 9, 2_100], ['cid', 10, 1_600]] }, // ann's session goes on across the cut; cid's re-fires
  { watermark: 3_900 }, // 1 099 + 2 000 passed: bob's first session is gone
  { visits: [['bob', 11, 20], ['ann', 12, 3_050]] }, // bob's is too late: side output; ann's extends her fired session
  // --- crash ---
  { visits: [['dan', 13, 3_500], ['eve', 14, 3_800], ['ann', 15, 5_000]] },
  { watermark: 7_000 },
  { visits: [['eve', 16, 100]] }, // too late
];

async function apply(driver: TestDriver, from: number, to: number): Promise<void> {
  const input = driver.input<Visit>('visits');
  for (const step of steps.slice(from, to)) {
    if ('watermark' in step) await input.advanceWatermark(step.watermark);
    else await input.pushTimed(step.visits.map(([user, page, timestamp]) => ({ value: { user, page }, timestamp })));
  }
}

const outputs = (driver: TestDriver) => ({
  sessions: driver.output<string>('out').committed.slice().sort(),
  late: driver.output<string>('late-out').committed.slice().sort(),
  counts: driver.output<string>('count-out').committed.slice().sort(),
});

describe('windows across a checkpoint', () => {
  it('a crash mid-session and a restore at another parallelism commit exactly the uninterrupted output', async () => {
    const whole = await testJob(sessionJob, { parallelism: 2 });
    await apply(whole, 0, steps.length);
    await whole.finish();
    const expected = outputs(whole);
    expect(expected.sessions).toContain('bob [50,1100) 2 8');
    expect(expected.late).toEqual(['late bob 11', 'late eve 16']);
    expect(expected.counts.length).toBeGreaterThan(0);

    for (const parallelism of [3, 1]) {
      const first = await testJob(sessionJob, { parallelism: 2 });
      await apply(first, 0, 4);
      const cp = await first.checkpoint();
      await apply(first, 4, 8);
      await first.crash();
      // Restored: reads the four steps after the checkpoint again, then the rest.
      const second = await testJob(sessionJob, { parallelism, restoreFrom: cp });
      // ann's session [0, 2 200) crossed the cut as state.
      expect(await second.mapState('sessions', 'window-sessions', 'ann')).toEqual([[0, 4_050]]);
      await apply(second, 8, steps.length);
      await second.finish();
      expect(outputs(second)).toEqual(expected);
    }
  });

  it('a record too late before the checkpoint is too late right after the restore, before any new watermark', async () => {
    const first = await testJob(sessionJob, { parallelism: 2 });
    await apply(first, 0, 4);
    await first.input<Visit>('visits').advanceWatermark(10_000);
    const cp = await first.checkpoint();
    await first.crash();
    const second = await testJob(sessionJob, { parallelism: 3, restoreFrom: cp });
    // Without a watermark in the checkpoint this would open a session [5 000, 6 000) and fire at the end.
    await second.input<Visit>('visits').pushTimed([{ value: { user: 'fay', page: 1 }, timestamp: 5_000 }]);
    await second.finish();
    expect(second.output<string>('late-out').committed).toEqual(['late fay 1']);
    expect(second.output<string>('out').committed.filter((s) => s.startsWith('fay'))).toEqual([]);
  });
});

describe('processing-time windows across a checkpoint', () => {
  const perSecond = defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 60_000 });
    env
      .fromSource(Sources.elements<Visit>([]), 'visits')
      .uid('visits')
      .keyBy((v) => v.user)
      .window(TumblingProcessingTimeWindows.of(1_000))
      .reduce((a, b) => ({ user: a.user, page: a.page + b.page }), (user, w, v) => `${user}@${w.start}=${v.page}`)
      .uid('per-second')
      .sinkTo(Sinks.collect())
      .uid('out');
  });

  it('keep their contents and timers through a restore at another parallelism', async () => {
    const first = await testJob(perSecond, { parallelism: 2, startTime: 5_000 });
    await first.input<Visit>('visits').pushAll([{ user: 'ann', page: 1 }, { user: 'bob', page: 2 }, { user: 'ann', page: 4 }]);
    await first.advanceProcessingTime(300);
    const cp = await first.checkpoint();
    await first.crash();
    const second = await testJob(perSecond, { parallelism: 3, restoreFrom: cp });
    expect(second.processingTime).toBe(5_300);
    await second.input<Visit>('visits').pushAll([{ user: 'bob', page: 8 }]);
    await second.advanceProcessingTime(698);
    expect(second.output('out').written).toEqual([]);
    await second.advanceProcessingTime(1);
    expect(second.output<string>('out').written.sort()).toEqual(['ann@5000=5', 'bob@5000=10']);
    await second.finish();
  });
});
