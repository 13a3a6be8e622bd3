// Tumbling event-time windows over out-of-order events from a parallel source.
import { type DataStream, defineJob, Sinks, Sources, TumblingEventTimeWindows, WatermarkStrategy } from 'baton';

export interface Click {
  readonly user: string;
  readonly at: number;
  readonly n: number;
}

/** Event n: a user and a timestamp that is out of order by up to `jitter` ms (deterministic). */
export function clickFor(n: number, jitter = 3_000): Click {
  const scrambled = (Math.imul(n, 2654435761) >>> 0) % (jitter + 1);
  return { user: `u${n % 17}`, at: 1_000_000 + n * 10 - scrambled, n };
}

/** Clicks and the sum of n per user and window. */
export const clickAggregate = {
  createAccumulator: () => ({ clicks: 0, total: 0 }),
  add: (c: Click, acc: { clicks: number; total: number }) => ({ clicks: acc.clicks + 1, total: acc.total + c.n }),
  getResult: (acc: { clicks: number; total: number }) => acc,
};

export const windowResult = (user: string, window: { start: number; end: number }, result: { clicks: number; total: number }) => ({
  user,
  start: window.start,
  end: window.end,
  ...result,
});

/** The windows an uninterrupted run over clicks 0..count-1 emits, as sorted JSON lines. */
export function expectedWindows(count: number): string[] {
  const windows = new Map<string, { user: string; start: number; end: number; clicks: number; total: number }>();
  for (let n = 0; n < count; n++) {
    const c = clickFor(n);
    const start = c.at - (c.at % 60_000);
    const id = `${c.user}@${start}`;
    const w = windows.get(id) ?? { user: c.user, start, end: start + 60_000, clicks: 0, total: 0 };
    w.clicks++;
    w.total += n;
    windows.set(id, w);
  }
  return [...windows.values()].map((w) => JSON.stringify(w)).sort();
}

/** Clicks n → per-user one-minute windows: the part both window jobs share. */
export function clicksPerMinute(numbers: DataStream<number>): DataStream<ReturnType<typeof windowResult>> {
  return numbers
    .map((n) => clickFor(n))
    .uid('to-click')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(5_000).withTimestampAssigner((c) => c.at))
    .uid('timestamps')
    .keyBy((c) => c.user)
    .window(TumblingEventTimeWindows.of(60_000))
    .aggregate(clickAggregate, windowResult)
    .uid('per-minute');
}

export default defineJob((env) => {
  const count = Number(env.params.count ?? 30_000);
  env.setAutoWatermarkInterval(0);
  clicksPerMinute(env.fromSource(Sources.sequence({ from: 0, to: count - 1 }), 'clicks').uid('clicks'))
    .sinkTo(Sinks.collect())
    .uid('windows');
});
