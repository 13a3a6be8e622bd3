// Window kinds with testJob: sliding and session event-time windows, processing-time windows on the manual
// clock, count windows; and the configuration errors of each.
import { describe, expect, it } from 'vitest';
import { type StreamExecutionEnvironment,
  defineJob,
  EventTimeSessionWindows,
  JobConfigError,
  OutputTag,
  ProcessingTimeSessionWindows,
  Sinks,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  Sources,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  type TimeWindowAssigner,
} from '../../../src/index.ts';
import { testJob } from '../../../src/testing/index.ts';

interface Reading {
  readonly sensor: string;
  readonly v: number;
}

const sum = (a: Reading, b: Reading): Reading => ({ sensor: a.sensor, v: a.v + b.v });

/** Sum of v per sensor and window, as `sensor@start-end=sum`. */
const windowed = (assigner: TimeWindowAssigner<Reading>) =>
  defineJob((env) => {
    env
      .fromSource(Sources.elements<Reading>([]), 'readings')
      .uid('readings')
      .keyBy((r) => r.sensor)
      .window(assigner)
      .reduce(sum, (sensor, w, r) => `${sensor}@${w.start}-${w.end}=${r.v}`)
      .uid('windows')
      .sinkTo(Sinks.collect())
      .uid('out');
  });

const at = (sensor: string, v: number, timestamp: number) => ({ value: { sensor, v }, timestamp });

describe('event-time windows', () => {
  it('sliding: every window a record belongs to fires when the watermark passes its end', async () => {
    const driver = await testJob(windowed(SlidingEventTimeWindows.of(10_000, 5_000)), { parallelism: 2 });
    const input = driver.input<Reading>('readings');
    await input.pushTimed([at('s1', 1, 2_000), at('s1', 10, 7_000), at('s2', 100, 12_000)]);
    await input.advanceWatermark(4_998);
    expect(driver.output('out').written).toEqual([]);
    await input.advanceWatermark(4_999);
    expect(driver.output<string>('out').written).toEqual(['s1@-5000-5000=1']);
    await input.advanceWatermark(9_999);
    expect(driver.output<string>('out').written.slice(1)).toEqual(['s1@0-10000=11']);
    await input.advanceWatermark(14_999);
    expect(driver.output<string>('out').written.slice(2).sort()).toEqual(['s1@5000-15000=10', 's2@5000-15000=100']);
    await driver.finish();
    expect(driver.output<string>('out').committed.sort()).toEqual(['s1@-5000-5000=1', 's1@0-10000=11', 's1@5000-15000=10', 's2@10000-20000=100', 's2@5000-15000=100']);
  });

  it('sessions: a session closes gap ms after its last record; records in between merge sessions', async () => {
    const driver = await testJob(windowed(EventTimeSessionWindows.withGap(1_000)), { parallelism: 3 });
    const input = driver.input<Reading>('readings');
    await input.pushTimed([at('s1', 1, 0), at('s1', 2, 800), at('s1', 4, 3_000), at('s2', 8, 500)]);
    await input.advanceWatermark(1_499);
    expect(driver.output<string>('out').written).toEqual(['s2@500-1500=8']);
    // 1 800 joins s1's first session [0, 1 800) (touching it); 2 500 then bridges it with [3 000, 4 000).
    await input.pushTimed([at('s1', 16, 1_800), at('s1', 32, 2_500)]);
    await input.advanceWatermark(3_998);
    expect(driver.output<string>('out').written).toHaveLength(1);
    await input.advanceWatermark(3_999);
    expect(driver.output<string>('out').written).toEqual(['s2@500-1500=8', 's1@0-4000=55']);
    await driver.finish();
  });
});

describe('processing-time windows', () => {
  it('tumbling: records fall into the window of the clock when they arrive; it fires when the clock reaches its end', async () => {
    const driver = await testJob(windowed(TumblingProcessingTimeWindows.of(1_000)), { parallelism: 2, startTime: 10_000 });
    const input = driver.input<Reading>('readings');
    // Event timestamps play no part.
    await input.pushTimed([at('s1', 1, 999_999), at('s2', 2, 0)]);
    await driver.advanceProcessingTime(500);
    await input.pushAll([{ sensor: 's1', v: 4 }]);
    await driver.advanceProcessingTime(498);
    expect(driver.output('out').written).toEqual([]);
    // The window's last millisecond, 10 999: it fires.
    await driver.advanceProcessingTime(1);
    expect(driver.output<string>('out').written.sort()).toEqual(['s1@10000-11000=5', 's2@10000-11000=2']);
    // Still 10 999: a record now belongs to the window that just fired, which fires again for it.
    await input.pushAll([{ sensor: 's2', v: 16 }]);
    await driver.advanceProcessingTime(1);
    expect(driver.output<string>('out').written.at(-1)).toBe('s2@10000-11000=16');
    await input.pushAll([{ sensor: 's1', v: 8 }]);
    await driver.advanceProcessingTime(2_000);
    expect(driver.output<string>('out').written.at(-1)).toBe('s1@11000-12000=8');
    await driver.finish();
  });

  it('sliding and sessions on the clock; the end of input fires what is pending', async () => {
    const sliding = await testJob(windowed(SlidingProcessingTimeWindows.of(1_000, 500)), { parallelism: 1, startTime: 0 });
    await sliding.input<Reading>('readings').pushAll([{ sensor: 's', v: 1 }]);
    await sliding.advanceProcessingTime(700);
    await sliding.input<Reading>('readings').pushAll([{ sensor: 's', v: 2 }]);
    await sliding.advanceProcessingTime(299); // 999: [-500, 500) fired at 499, [0, 1 000) now
    expect(sliding.output<string>('out').written).toEqual(['s@-500-500=1', 's@0-1000=3']);
    await sliding.finish();
    expect(sliding.output<string>('out').committed).toEqual(['s@-500-500=1', 's@0-1000=3', 's@500-1500=2']);

    const sessions = await testJob(windowed(ProcessingTimeSessionWindows.withGap(100)), { parallelism: 2, startTime: 0 });
    const input = sessions.input<Reading>('readings');
    await input.pushAll([{ sensor: 's', v: 1 }]);
    await sessions.advanceProcessingTime(50); // [50, 150) merges with [0, 100): the session goes on
    await input.pushAll([{ sensor: 's', v: 2 }]);
    await sessions.advanceProcessingTime(98);
    expect(sessions.output<string>('out').written).toEqual([]);
    await sessions.advanceProcessingTime(1);
    expect(sessions.output<string>('out').written).toEqual(['s@0-150=3']);
    await sessions.advanceProcessingTime(1_000);
    await input.pushAll([{ sensor: 's', v: 4 }]);
    await sessions.finish();
    expect(sessions.output<string>('out').committed).toEqual(['s@0-150=3', 's@1149-1249=4']);
  });
});

describe('count windows', () => {
  const counted = (size: number, slide?: number) =>
    defineJob((env) => {
      env
        .fromSource(Sources.elements<Reading>([]), 'readings')
        .uid('readings')
        .keyBy((r) => r.sensor)
        .countWindow(size, slide)
        .reduce(sum, (sensor, w, r) => `${sensor}#${w.index}(${w.count})=${r.v}`)
        .uid('counts')
        .sinkTo(Sinks.collect())
        .uid('out');
    });

  it('tumbling: fire every size records of a key; a partial window never fires', async () => {
    const driver = await testJob(counted(3), { parallelism: 2 });
    const input = driver.input<Reading>('readings');
    await input.pushAll([1, 2, 4, 8, 16, 32, 64].map((v) => ({ sensor: 'a', v })));
    await input.pushAll([{ sensor: 'b', v: 1 }]);
    expect(driver.output<string>('out').written).toEqual(['a#0(3)=7', 'a#1(3)=56']);
    const result = await driver.finish();
    expect(driver.output<string>('out').committed).toEqual(['a#0(3)=7', 'a#1(3)=56']);
    expect(result.operators.counts.type).toBe('count-window');
  });

  it('sliding: every slide records over the last size', async () => {
    const driver = await testJob(counted(3, 1), { parallelism: 1 });
    await driver.input<Reading>('readings').pushAll([1, 2, 4, 8].map((v) => ({ sensor: 'a', v })));
    expect(driver.output<string>('out').written).toEqual(['a#0(1)=1', 'a#1(2)=3', 'a#2(3)=7', 'a#3(3)=14']);
    await driver.close();
  });
});

describe('configuration errors', () => {
  const keyed = (build: (k: ReturnType<typeof readingsOf>) => void) => defineJob((env) => build(readingsOf(env)));
  const readingsOf = (env: StreamExecutionEnvironment) => env.fromSource(Sources.elements<Reading>([]), 'r').uid('r').keyBy((r) => r.sensor);
  const build = async (job: ReturnType<typeof defineJob>) => {
    const driver = await testJob(job);
    await driver.close();
  };

  it('name the setting at fault', async () => {
    const late = new OutputTag<Reading>('late');
    await expect(build(keyed((k) => k.countWindow(3).allowedLateness(10)))).rejects.toThrow(/allowedLateness.*event-time windows only; count windows/);
    await expect(build(keyed((k) => k.window(TumblingProcessingTimeWindows.of(10)).sideOutputLateData(late)))).rejects.toThrow(/sideOutputLateData.*processing-time windows/);
    await expect(build(keyed((k) => k.window(TumblingEventTimeWindows.of(10)).allowedLateness(-1)))).rejects.toThrow(JobConfigError);
    await expect(build(keyed((k) => k.countWindow(0)))).rejects.toThrow(/countWindow size/);
    await expect(build(keyed((k) => k.countWindow(3, 4)))).rejects.toThrow(/countWindow slide/);
    await expect(build(keyed((k) => k.window({ sizeMs: 10 } as never)))).rejects.toThrow(/expected a window assigner/);
    const noMerge = { createAccumulator: () => 0, add: (_r: Reading, n: number) => n + 1, getResult: (n: number) => n };
    await expect(build(keyed((k) => k.window(EventTimeSessionWindows.withGap(10)).aggregate(noMerge)))).rejects.toThrow(/needs merge/);
    await expect(build(keyed((k) => k.window(TumblingEventTimeWindows.of(10)).process({} as never)))).rejects.toThrow(/ProcessWindowFunction/);
    await expect(build(keyed((k) => k.window(TumblingEventTimeWindows.of(10)).reduce(sum, 42 as never)))).rejects.toThrow(/reduce window function/);
  });
});
