// baton_late_records_dropped_total: per window operator, from progress reports and the final result.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { defineJob, Sinks, Sources, TumblingEventTimeWindows } from '../../src/index.ts';
import { attachJobMetrics } from '../../src/metrics/index.ts';
import { JobHandle } from '../../src/runtime/index.ts';
import { testJob } from '../../src/testing/index.ts';
import { sample } from './scrape.ts';

describe('baton_late_records_dropped_total', () => {
  it('follows the cumulative counts of progress reports, across a restart, only for operators that count', async () => {
    const registry = new Registry();
    const handle = new JobHandle('clicks');
    attachJobMetrics(handle, registry);
    const progress = (dropped: number) =>
      handle.emit('progress', {
        at: 0,
        operators: { windows: { recordsIn: 10, recordsOut: 1, backpressuredMs: 0, lateRecordsDropped: dropped }, map: { recordsIn: 10, recordsOut: 10, backpressuredMs: 0 } },
      });
    const read = async (operator: string) => sample(await registry.metrics(), 'baton_late_records_dropped_total', { job: 'clicks', operator });
    progress(2);
    progress(5);
    expect(await read('windows')).toBe(5);
    handle.transition({ type: 'initialize' });
    handle.transition({ type: 'restart' });
    progress(1);
    expect(await read('windows')).toBe(6);
    expect(await read('map')).toBeUndefined();
  });

  it('counts the records a window operator of a running job dropped', async () => {
    const job = defineJob((env) => {
      env
        .fromSource(Sources.elements<{ user: string }>([]), 'clicks')
        .uid('clicks')
        .keyBy((c) => c.user)
        .window(TumblingEventTimeWindows.of(1_000))
        .aggregate({ createAccumulator: () => 0, add: (_c: { user: string }, n: number) => n + 1, getResult: (n: number) => n })
        .uid('per-second')
        .sinkTo(Sinks.collect())
        .uid('out');
    });
    const driver = await testJob(job, { parallelism: 2, jobId: 'late-metrics' });
    const registry = new Registry();
    attachJobMetrics(driver.handle, registry);
    const clicks = driver.input<{ user: string }>('clicks');
    await clicks.pushTimed([{ value: { user: 'a' }, timestamp: 1_500 }]);
    await clicks.advanceWatermark(1_000);
    await clicks.pushTimed([0, 500, 999].map((timestamp) => ({ value: { user: `u${timestamp}` }, timestamp })));
    const result = await driver.finish();
    expect(result.operators['per-second'].lateRecordsDropped).toBe(3);
    const body = await registry.metrics();
    expect(sample(body, 'baton_late_records_dropped_total', { job: 'late-metrics', operator: 'per-second' })).toBe(3);
    expect(sample(body, 'baton_late_records_dropped_total', { job: 'late-metrics', operator: 'out' })).toBeUndefined();
  });
});
