// The DataStream API is typed end to end: tsc (npm run lint) checks these, vitest runs them.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type DataStream, defineJob, type KeyedStream, Sinks, Sources, TumblingEventTimeWindows, WatermarkStrategy } from '../../src/index.ts';

describe('stream types', () => {
  it('follow each transformation', () => {
    const seen: unknown[] = [];
    const job = defineJob((env) => {
      const numbers = env.fromSource(Sources.sequence({ from: 1, to: 3 }));
      expectTypeOf(numbers).toEqualTypeOf<DataStream<number>>();
      const strings = numbers.map((n) => `#${n}`);
      expectTypeOf(strings).toEqualTypeOf<DataStream<string>>();
      const chars = strings.flatMap<string>((s, out) => out.collect(s[0]));
      expectTypeOf(chars).toEqualTypeOf<DataStream<string>>();
      const keyed = strings.keyBy((s) => s.length);
      expectTypeOf(keyed).toEqualTypeOf<KeyedStream<string, number>>();
      const windows = env
        .fromElements({ at: 1, user: 'a' })
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<{ at: number; user: string }>().withTimestampAssigner((e) => e.at))
        .keyBy((e) => e.user)
        .window(TumblingEventTimeWindows.of(1000))
        .aggregate(
          { createAccumulator: () => 0, add: (_e: { at: number; user: string }, n: number) => n + 1, getResult: (n: number) => n },
          (user, window, count) => ({ user, start: window.start, count }),
        );
      expectTypeOf(windows).toEqualTypeOf<DataStream<{ user: string; start: number; count: number }>>();
      seen.push(numbers, strings, keyed, windows);
      strings.sinkTo(Sinks.collect<string>());
      // @ts-expect-error a sink of numbers does not accept a stream of strings
      strings.sinkTo(Sinks.collect<number>());
    });
    job.buildGraph({ parallelism: 1, maxParallelism: 128, params: {} });
    expect(seen).toHaveLength(4);
  });
});
