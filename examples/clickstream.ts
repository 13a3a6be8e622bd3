// Example job: per-user click counts in one-minute event-time windows, plus a running total per page.
import {
  type Collector,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  Sinks,
  Sources,
  TumblingEventTimeWindows,
  type ValueState,
  WatermarkStrategy,
} from 'baton';

export interface Click {
  readonly user: string;
  readonly page: string;
  readonly at: number;
}

const PAGES = ['/', '/pricing', '/docs', '/blog', '/signup'];

/** Click n of a deterministic, slightly out-of-order click stream. */
export function click(n: number): Click {
  const h = Math.imul(n, 2654435761) >>> 0;
  return { user: `user-${h % 97}`, page: PAGES[(h >>> 8) % PAGES.length], at: 1_700_000_000_000 + n * 50 - (h % 2_000) };
}

class PageViews extends KeyedProcessFunction<string, Click, { page: string; views: number }> {
  private views!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.views = ctx.valueState<number>('views');
  }

  processElement(_click: Click, ctx: KeyedProcessContext<string>, out: Collector<{ page: string; views: number }>): void {
    const views = (this.views.value() ?? 0) + 1;
    this.views.update(views);
    if (views % 10_000 === 0) out.collect({ page: ctx.key, views });
  }
}

export default defineJob((env) => {
  const clicks = env
    .fromSource(Sources.sequence({ from: 0, to: Number(env.params.clicks ?? 200_000) - 1 }), 'clicks')
    .uid('clicks')
    .map(click)
    .uid('parse')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(2_000).withTimestampAssigner((c) => c.at))
    .uid('event-time');

  clicks
    .keyBy((c) => c.user)
    .window(TumblingEventTimeWindows.of(60_000))
    .aggregate(
      { createAccumulator: () => 0, add: (_c: Click, n: number) => n + 1, getResult: (n: number) => n },
      (user, window, count) => ({ user, minute: new Date(window.start).toISOString().slice(11, 16), count }),
    )
    .uid('clicks-per-minute')
    .sinkTo(Sinks.collect())
    .uid('minutes');

  clicks.keyBy((c) => c.page).process(new PageViews()).uid('page-views').sinkTo(Sinks.collect()).uid('milestones');
});
