// The job of the fidelity check: one module, run by testJob (imported) and by runJob on worker
// threads (its URL). Every pipeline's output is a deterministic function of its input whatever the
// parallelism, batch boundaries or thread timing — so both runtimes must agree line for line. Processing time never shows in an output: its timers are set an hour ahead and
// fire at the end of input, in both runtimes.
import {
  type Collector,
  defineJob,
  KeyedProcessFunction,
  type KeyedProcessContext,
  type KeyedRuntimeContext,
  type ListState,
  type MapState,
  type OnTimerContext,
  Sinks,
  Sources,
  type StreamExecutionEnvironment,
  type ValueState,
  WatermarkStrategy,
} from 'baton';
import { clicksPerMinute } from '../../e2e/jobs/event-time-windows.ts';

export interface Visit {
  readonly n: number;
  readonly user: string;
  readonly page: string;
  readonly at: number;
}

const PAGES = ['home', 'docs', 'pricing', 'blog', 'signup'];

/** Visit n: a user, a page and an event time, in time order (one reader keeps each user's visits in order). */
export function visit(n: number): Visit {
  const h = Math.imul(n, 2654435761) >>> 0;
  return { n, user: `u${h % 11}`, page: PAGES[(h >>> 8) % PAGES.length], at: n * 37 };
}

/**
 * ValueState (visits), MapState (visits per page) and ListState (the last three pages) per user;
 * one line per visit, and a summary per user from a processing-time timer at the end of input.
 */
class UserProfile extends KeyedProcessFunction<string, Visit, string> {
  private visits!: ValueState<number>;
  private perPage!: MapState<string, number>;
  private recent!: ListState<string>;

  override open(ctx: KeyedRuntimeContext): void {
    this.visits = ctx.valueState<number>('visits');
    this.perPage = ctx.mapState<string, number>('per-page');
    this.recent = ctx.listState<string>('recent');
  }

  processElement(v: Visit, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    const visits = (this.visits.value() ?? 0) + 1;
    this.visits.update(visits);
    if (visits === 1) ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 3_600_000);
    this.perPage.put(v.page, (this.perPage.get(v.page) ?? 0) + 1);
    const recent = [...this.recent.get(), v.page].slice(-3);
    this.recent.update(recent);
    out.collect(`${ctx.key},${v.n},${visits},${v.page}=${this.perPage.get(v.page)},${recent.join('|')}`);
  }

  override onTimer(_timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    const pages = [...this.perPage.entries()].sort(([a], [b]) => a.localeCompare(b));
    out.collect(`${ctx.key},end,${this.visits.value()},${pages.map(([p, c]) => `${p}=${c}`).join(';')}`);
  }
}

/**
 * Event-time timers: each user's visits are summed per second (MapState by second); a timer at
 * the second's end emits and clears it. A visit can never be late (one ordered reader, monotonous
 * timestamps), so what a timer sees does not depend on where the watermarks fell. A processing-time
 * timer at the end of input emits the user's total.
 */
class VisitsPerSecond extends KeyedProcessFunction<string, Visit, string> {
  private seconds!: MapState<number, number>;
  private total!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.seconds = ctx.mapState<number, number>('seconds');
    this.total = ctx.valueState<number>('total');
  }

  processElement(v: Visit, ctx: KeyedProcessContext<string>, _out: Collector<string>): void {
    const second = Math.floor(v.at / 1_000);
    const seen = this.seconds.get(second);
    if (seen === undefined) ctx.timerService.registerEventTimeTimer(second * 1_000 + 999);
    this.seconds.put(second, (seen ?? 0) + 1);
    const total = this.total.value();
    if (total === undefined) ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 3_600_000);
    this.total.update((total ?? 0) + 1);
  }

  override onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    if (ctx.timeDomain === 'processing-time') {
      out.collect(`${ctx.key},total,${this.total.value()}`);
      return;
    }
    const second = Math.floor(timestamp / 1_000);
    out.collect(`${ctx.key},second ${second},${this.seconds.get(second)},watermark>=${ctx.timerService.currentWatermark() >= timestamp}`);
    this.seconds.remove(second);
  }
}

/** One reader of visits, in order (uids prefixed: several pipelines of the job read their own). */
function visits(env: StreamExecutionEnvironment, prefix: string) {
  return env
    .fromSource(Sources.sequence({ from: 0, to: Number(env.params.count ?? 2_000) - 1 }), `${prefix}-numbers`)
    .uid(`${prefix}-numbers`)
    .setParallelism(1)
    .map(visit)
    .uid(`${prefix}-visits`)
    .setParallelism(1);
}

/**
 * Four independent pipelines in one job (one thread start-up for all), each with its own source
 * and sink; the keyed parts run at the job's parallelism.
 */
export default defineJob((env) => {
  env.setAutoWatermarkInterval(0);
  // Keyed value, map and list state; a processing-time timer at the end of input.
  visits(env, 'state').keyBy((v) => v.user).process(new UserProfile()).uid('profile').sinkTo(Sinks.collect<string>()).uid('state');

  // Event-time timers on assigned timestamps, and a processing-time timer at the end of input.
  visits(env, 'timers')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Visit>().withTimestampAssigner((v) => v.at))
    .uid('event-time')
    .setParallelism(1)
    .keyBy((v) => v.user)
    .process(new VisitsPerSecond())
    .uid('per-second')
    .sinkTo(Sinks.collect<string>())
    .uid('timers');

  // One reader rebalanced to the job's parallelism (map), then keyed: each key's records arrive
  // interleaved from every map subtask, in any order — a count per key (reduce) emits 1..n per key
  // whatever the order, so the set of its lines is still deterministic.
  env
    .fromSource(Sources.sequence({ from: 0, to: Number(env.params.count ?? 2_000) - 1 }), 'rebalance-numbers')
    .uid('rebalance-numbers')
    .setParallelism(1)
    .map((n): [string, number] => [visit(n).page, 1])
    .uid('pages')
    .filter(([page]) => page !== 'blog')
    .uid('no-blog')
    .keyBy(([page]) => page)
    .reduce((a, b): [string, number] => [a[0], a[1] + b[1]])
    .uid('counts')
    .sinkTo(Sinks.collect<[string, number]>())
    .uid('rebalance');

  // Tumbling event-time windows over out-of-order clicks from a parallel reader, bounded
  // out-of-orderness (the event-time-windows job of the end-to-end tests).
  clicksPerMinute(env.fromSource(Sources.sequence({ from: 0, to: Number(env.params.clicks ?? 6_000) - 1 }), 'clicks').uid('clicks'))
    .sinkTo(Sinks.collect())
    .uid('windows');
});
