// Example job: per-user activity with a retention policy (TTL'd keyed state), bot filtering in a
// non-keyed process function (side output, counters), rolling page totals with sum, and declared
// parameters. Run: node bin/baton.mjs run examples/user-activity.ts --param clicks=50000 --param region=us
import {
  type AggregatingState,
  type Collector,
  type Counter,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type MapState,
  OutputTag,
  param,
  type ProcessContext,
  ProcessFunction,
  type RichRuntimeContext,
  Sinks,
  Sources,
  type ValueState,
} from 'baton';
import { type Click, click } from './clickstream.ts';

export interface Milestone {
  readonly region: string;
  readonly user: string;
  /** Clicks since the user was last idle for longer than the retention time. */
  readonly clicks: number;
  readonly distinctPages: number;
  /** Mean gap between the user's clicks in event time, in ms. */
  readonly meanGapMs: number;
}

/** Users whose ids end in 7 behave like bots in this made-up stream. */
export const isBot = (c: Click): boolean => c.user.endsWith('7');
export const bots = new OutputTag<Click>('bots');

/** Keeps human clicks on the main output; bot clicks go to a side output and are counted. */
class FilterBots extends ProcessFunction<Click, Click> {
  private humans!: Counter;
  private robots!: Counter;
  override open(ctx: RichRuntimeContext): void {
    this.humans = ctx.metrics.counter('humans');
    this.robots = ctx.metrics.counter('bots');
  }
  processElement(c: Click, ctx: ProcessContext, out: Collector<Click>): void {
    if (isBot(c)) {
      this.robots.inc();
      ctx.output(bots, c);
    } else {
      this.humans.inc();
      out.collect(c);
    }
  }
}

/**
 * Per user: clicks, pages seen and the mean gap between clicks, all under one retention policy:
 * state a user has not touched for `idleMs` of processing time expires (and is left out of
 * checkpoints), so inactive users cost nothing and start over when they come back.
 */
export class UserActivity extends KeyedProcessFunction<string, Click, Milestone> {
  private clicks!: ValueState<number>;
  private pages!: MapState<string, number>;
  private gaps!: AggregatingState<number, number>;
  private lastAt!: ValueState<number>;

  constructor(
    private readonly region: string,
    private readonly idleMs: number,
    private readonly every: number,
  ) {
    super();
  }

  override open(ctx: KeyedRuntimeContext): void {
    const retention = { ttl: { ms: this.idleMs, update: 'on-read-and-write' as const } };
    this.clicks = ctx.valueState<number>('clicks', retention);
    this.pages = ctx.mapState<string, number>('pages', retention);
    this.lastAt = ctx.valueState<number>('last-at', retention);
    this.gaps = ctx.aggregatingState(
      'gaps',
      {
        createAccumulator: () => [0, 0] as [number, number],
        add: (gap: number, [sum, n]: [number, number]) => [sum + gap, n + 1] as [number, number],
        getResult: ([sum, n]: [number, number]) => (n === 0 ? 0 : Math.round(sum / n)),
      },
      retention,
    );
  }

  processElement(c: Click, ctx: KeyedProcessContext<string>, out: Collector<Milestone>): void {
    const clicks = (this.clicks.value() ?? 0) + 1;
    this.clicks.update(clicks);
    this.pages.put(c.page, (this.pages.get(c.page) ?? 0) + 1);
    const last = this.lastAt.value();
    if (last !== undefined) this.gaps.add(Math.abs(c.at - last));
    this.lastAt.update(c.at);
    if (clicks % this.every === 0) {
      out.collect({ region: this.region, user: ctx.key, clicks, distinctPages: [...this.pages.keys()].length, meanGapMs: this.gaps.get() ?? 0 });
    }
  }
}

export default defineJob(
  {
    params: {
      clicks: param.number({ default: 200_000, integer: true, min: 1, description: 'clicks to generate' }),
      region: param.string({ default: 'eu', choices: ['eu', 'us', 'apac'], description: 'region tag of every milestone' }),
      idleMinutes: param.number({ default: 30, min: 0.001, description: 'a user idle this long (processing time) starts over' }),
      every: param.number({ default: 500, integer: true, min: 1, description: 'emit a milestone every this many clicks of a user' }),
      dryRun: param.boolean({ default: false, description: 'discard the output' }),
    },
  },
  (env, p) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    const humans = env
      .fromSource(Sources.sequence({ from: 0, to: p.clicks - 1 }), 'clicks')
      .uid('clicks')
      .map(click)
      .uid('parse')
      .process(new FilterBots())
      .uid('filter-bots');

    humans
      .keyBy((c) => c.user)
      .process(new UserActivity(p.region, p.idleMinutes * 60_000, p.every))
      .uid('user-activity')
      .sinkTo(p.dryRun ? Sinks.discard<Milestone>() : Sinks.collect<Milestone>())
      .uid('milestones');

    // Rolling views per page (sum keeps the page of the first record), every 5 000th kept.
    humans
      .map((c) => ({ page: c.page, views: 1 }))
      .uid('one-view')
      .keyBy((v) => v.page)
      .sum('views')
      .uid('page-views')
      .filter((v) => v.views % 5_000 === 0)
      .uid('page-milestones')
      .sinkTo(p.dryRun ? Sinks.discard<{ page: string; views: number }>() : Sinks.collect<{ page: string; views: number }>())
      .uid('pages');

    humans.getSideOutput(bots).keyBy((c) => c.user).process(new CountBots()).uid('bot-counts').sinkTo(Sinks.discard<string>()).uid('bots');
  },
);

/** Counts each bot's clicks; the side output could as well go to an alerting sink. */
class CountBots extends KeyedProcessFunction<string, Click, string> {
  private seen!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.seen = ctx.valueState<number>('seen');
  }
  processElement(_c: Click, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const n = (this.seen.value() ?? 0) + 1;
    this.seen.update(n);
    if (n % 1_000 === 0) out.collect(`${ctx.key}: ${n}`);
  }
}
