// Late data with testJob: allowed lateness re-fires windows, records past it go to the late side output
// or are dropped and counted in the job result.
import { describe, expect, it } from 'vitest';
import { defineJob, EventTimeSessionWindows, OutputTag, Sinks, Sources, TumblingEventTimeWindows } from '../../../src/index.ts';
import { testJob } from '../../../src/testing/index.ts';

interface Click {
  readonly user: string;
  readonly n: number;
}

const late = new OutputTag<Click>('late-clicks');
const count = { createAccumulator: () => 0, add: (c: Click, n: number) => n + c.n, getResult: (n: number) => n, merge: (a: number, b: number) => a + b };

/** Per user and minute the sum of n; event time from the source (the test pushes timestamps and watermarks). */
const perMinute = (options: { lateness?: number; sideOutput?: boolean; sessions?: boolean }) =>
  defineJob((env) => {
    const windowed = env
      .fromSource(Sources.elements<Click>([]), 'clicks')
      .uid('clicks')
      .keyBy((c) => c.user)
      .window(options.sessions ? EventTimeSessionWindows.withGap(10_000) : TumblingEventTimeWindows.of(60_000));
    if (options.lateness !== undefined) windowed.allowedLateness(options.lateness);
    if (options.sideOutput) windowed.sideOutputLateData(late);
    const sums = windowed.aggregate(count, (user, w, sum) => `${user}@${w.start}-${w.end}=${sum}`).uid('per-minute');
    sums.sinkTo(Sinks.collect()).uid('out');
    if (options.sideOutput) sums.getSideOutput(late).map((c) => `late ${c.user} ${c.n}`).uid('late-lines').sinkTo(Sinks.collect()).uid('late-out');
  });

const at = (user: string, n: number, timestamp: number) => ({ value: { user, n }, timestamp });

describe('allowed lateness', () => {
  it('fires a window again with the updated result for each late record, until end - 1 + lateness', async () => {
    const driver = await testJob(perMinute({ lateness: 30_000, sideOutput: true }), { parallelism: 2 });
    const clicks = driver.input<Click>('clicks');
    await clicks.pushTimed([at('ann', 1, 1_000), at('bob', 10, 2_000), at('ann', 2, 59_999)]);
    await clicks.advanceWatermark(59_998);
    expect(driver.output('out').written).toEqual([]);
    await clicks.advanceWatermark(59_999);
    expect(driver.output<string>('out').written.sort()).toEqual(['ann@0-60000=3', 'bob@0-60000=10']);
    // Late, within the lateness: ann's window fires again at once, with the record in it.
    await clicks.pushTimed([at('ann', 100, 5_000)]);
    expect(driver.output<string>('out').written.slice(2)).toEqual(['ann@0-60000=103']);
    await clicks.advanceWatermark(89_998);
    await clicks.pushTimed([at('bob', 100, 30_000)]);
    expect(driver.output<string>('out').written.slice(3)).toEqual(['bob@0-60000=110']);
    // 59 999 + 30 000: the window's contents are gone; its records are now too late.
    await clicks.advanceWatermark(89_999);
    await clicks.pushTimed([at('ann', 1_000, 59_000), at('cid', 1, 120_000)]);
    expect(driver.output<string>('out').written).toHaveLength(4);
    expect(driver.output<string>('late-out').written).toEqual(['late ann 1000']);
    const result = await driver.finish();
    expect(driver.output<string>('out').committed.sort()).toEqual(['ann@0-60000=103', 'ann@0-60000=3', 'bob@0-60000=10', 'bob@0-60000=110', 'cid@120000-180000=1']);
    expect(driver.output<string>('late-out').committed).toEqual(['late ann 1000']);
    // Sent to the side output, not dropped.
    expect(result.operators['per-minute'].lateRecordsDropped).toBe(0);
  });

  it('without a late side output, counts the dropped records per operator in the job result', async () => {
    const driver = await testJob(perMinute({}), { parallelism: 3 });
    const clicks = driver.input<Click>('clicks');
    await clicks.pushTimed([at('ann', 1, 1_000), at('bob', 1, 61_000)]);
    await clicks.advanceWatermark(60_000);
    await clicks.pushTimed([at('ann', 1, 2_000), at('bob', 1, 3_000), at('cid', 1, 59_999), at('dan', 1, 60_001)]);
    const result = await driver.finish();
    expect(driver.output<string>('out').committed.sort()).toEqual(['ann@0-60000=1', 'bob@60000-120000=1', 'dan@60000-120000=1']);
    expect(result.operators['per-minute']).toMatchObject({ type: 'window', recordsIn: 6, recordsOut: 3, lateRecordsDropped: 3 });
    // Only window operators count late records.
    expect(result.operators.out.lateRecordsDropped).toBeUndefined();
  });

  it('late records re-fire the session they join; a new session of late records fires at once', async () => {
    const driver = await testJob(perMinute({ sessions: true, lateness: 60_000, sideOutput: true }), { parallelism: 2 });
    const clicks = driver.input<Click>('clicks');
    await clicks.pushTimed([at('ann', 1, 0), at('ann', 2, 5_000), at('ann', 4, 40_000)]);
    await clicks.advanceWatermark(30_000);
    expect(driver.output<string>('out').written).toEqual(['ann@0-15000=3']);
    // Late: joins [0, 15000) and makes it [0, 20000), which has ended: fires at once.
    await clicks.pushTimed([at('ann', 8, 10_000)]);
    // Late: a session of its own, [20 001, 30 001) (one ms more and it would touch [0, 20 000)), already over: fires at once.
    await clicks.pushTimed([at('ann', 16, 20_001)]);
    expect(driver.output<string>('out').written).toEqual(['ann@0-15000=3', 'ann@0-20000=11', 'ann@20001-30001=16']);
    // On time: [30 000, 40 000) bridges [20 001, 30 001) and [40 000, 50 000): fires at the watermark.
    await clicks.pushTimed([at('ann', 32, 30_000)]);
    await clicks.advanceWatermark(49_998);
    expect(driver.output<string>('out').written).toHaveLength(3);
    await clicks.advanceWatermark(49_999);
    expect(driver.output<string>('out').written.at(-1)).toBe('ann@20001-50000=52');
    // Past 19 999 + 60 000 the first session is gone: a record in it is too late.
    await clicks.advanceWatermark(79_999);
    await clicks.pushTimed([at('ann', 64, 1_000)]);
    expect(driver.output<string>('late-out').written).toEqual(['late ann 64']);
    await driver.finish();
  });
});
