// Example job: sessionization with late data. Page views of a mobile app become per-user sessions
// (event-time session windows, 10 s gap); views an offline phone syncs up to two minutes late still
// update their session (allowed lateness: the session is emitted again), and views later than that
// go to a side output instead of being lost.
//
//   node bin/baton.mjs run examples/sessionization.ts --param views=100000 --param output=/tmp/sessions
import {
  type Collector,
  type DataStream,
  defineJob,
  EventTimeSessionWindows,
  OutputTag,
  type ProcessWindowContext,
  ProcessWindowFunction,
  Sinks,
  Sources,
  WatermarkStrategy,
} from 'baton';

export interface PageView {
  readonly user: string;
  readonly page: string;
  /** Event time: when the user saw the page (ms). */
  readonly at: number;
  /** Sent late by the app's offline queue. */
  readonly synced: boolean;
}

export interface Session {
  readonly user: string;
  /** The session window `[start, end)`: first view to last view + the gap. */
  readonly start: number;
  readonly end: number;
  readonly views: number;
  /** Distinct pages seen. */
  readonly pages: number;
  /** Views that arrived late (after the session had been emitted) and updated it. */
  readonly synced: number;
}

export const SESSION_GAP_MS = 10_000;
export const ALLOWED_LATENESS_MS = 120_000;
export const OUT_OF_ORDERNESS_MS = 5_000;
/** Views later than the allowed lateness: the session they belonged to is closed. */
export const lateViews = new OutputTag<PageView>('late-views');

const START = Date.UTC(2024, 4, 1, 9);
/** Event time advances 10 ms per view. */
const STEP_MS = 10;
const USERS = 12;
/** Each user is active 20 s of every minute (one burst, one session), each user at another phase. */
const PERIOD_MS = 60_000;
const ACTIVE_MS = 20_000;
const PAGES = ['/home', '/search', '/product', '/cart', '/checkout', '/help'];

function hash(n: number): number {
  return Math.imul(n ^ 0x5bd1e995, 2654435761) >>> 0;
}

const phase = (u: number) => u * (PERIOD_MS / USERS);

/**
 * View n of a deterministic stream: four users active at any moment, views up to 2 s out of
 * order; from view 12 000 on, every 97th is synced ~30-90 s late from an offline queue (into the
 * middle of the user's previous session, long emitted but within the allowed lateness) and every
 * 211th comes from a queue stuck for 10 minutes (later than the lateness). The margins (tens of
 * seconds) dwarf how far the watermark can trail, so which views are late does not depend on how
 * the input was batched, restored or rescaled.
 */
export function pageView(n: number): PageView {
  const now = START + n * STEP_MS;
  const h = hash(n);
  const page = PAGES[(h >>> 16) % PAGES.length];
  if (n >= 12_000 && n % 211 === 7) return { user: `user-${h % USERS}`, page, at: now - 600_000, synced: true };
  if (n >= 12_000 && n % 97 === 13) {
    const u = h % USERS;
    // The user's latest burst that ended at least 40 s ago: its session closed (and was emitted) 30 s ago.
    const k = Math.floor((now - 40_000 - ACTIVE_MS - START + phase(u)) / PERIOD_MS);
    const burstStart = START - phase(u) + k * PERIOD_MS;
    return { user: `user-${u}`, page, at: burstStart + ACTIVE_MS / 2, synced: true };
  }
  const active: number[] = [];
  for (let u = 0; u < USERS; u++) if ((((now - START + phase(u)) % PERIOD_MS) + PERIOD_MS) % PERIOD_MS < ACTIVE_MS) active.push(u);
  return { user: `user-${active[h % active.length]}`, page, at: now - ((h >>> 8) % 2_000), synced: false };
}

interface SessionAccumulator {
  views: number;
  synced: number;
  pages: string[];
}

/** Incremental: only the counts and the distinct pages are kept per open session. */
const sessionStats = {
  createAccumulator: (): SessionAccumulator => ({ views: 0, synced: 0, pages: [] }),
  add: (v: PageView, acc: SessionAccumulator): SessionAccumulator => ({
    views: acc.views + 1,
    synced: acc.synced + (v.synced ? 1 : 0),
    pages: acc.pages.includes(v.page) ? acc.pages : [...acc.pages, v.page],
  }),
  getResult: (acc: SessionAccumulator) => acc,
  // Sessions merge when a view bridges two of them.
  merge: (a: SessionAccumulator, b: SessionAccumulator): SessionAccumulator => ({
    views: a.views + b.views,
    synced: a.synced + b.synced,
    pages: [...a.pages, ...b.pages.filter((p) => !a.pages.includes(p))],
  }),
};

/** Adds the key and the window to the aggregate. */
class ToSession extends ProcessWindowFunction<SessionAccumulator, Session, string> {
  process(user: string, ctx: ProcessWindowContext, [acc]: readonly SessionAccumulator[], out: Collector<Session>): void {
    out.collect({ user, start: ctx.window.start, end: ctx.window.end, views: acc.views, pages: acc.pages.length, synced: acc.synced });
  }
}

/** Page views → sessions per user, and the views too late for any session. */
export function sessionize(views: DataStream<PageView>): { sessions: DataStream<Session>; late: DataStream<PageView> } {
  const sessions = views
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<PageView>(OUT_OF_ORDERNESS_MS).withTimestampAssigner((v) => v.at))
    .setParallelism(1)
    .uid('event-time')
    .keyBy((v) => v.user)
    .window(EventTimeSessionWindows.withGap(SESSION_GAP_MS))
    .allowedLateness(ALLOWED_LATENESS_MS)
    .sideOutputLateData(lateViews)
    .aggregate(sessionStats, new ToSession())
    .uid('sessions');
  return { sessions, late: sessions.getSideOutput(lateViews) };
}

export default defineJob((env) => {
  const count = Number(env.params.views ?? 50_000);
  const output = env.params.output === undefined ? undefined : String(env.params.output);
  // Watermarks at every batch end: with a periodic interval the watermark would trail by however
  // many views one interval holds, and "late" would depend on the machine's speed.
  env.setAutoWatermarkInterval(0);
  env.enableCheckpointing({ intervalMs: 1_000 });
  // One reader, as one partition of a log: views in the order the app sent them. With several
  // readers, the watermark (the lowest of theirs) would depend on how far each one has got.
  const views = env
    .fromSource(Sources.sequence({ from: 0, to: count - 1 }), 'views')
    .setParallelism(1)
    .uid('views')
    .map(pageView)
    .setParallelism(1)
    .uid('parse');
  const { sessions, late } = sessionize(views);
  sessions.sinkTo(output ? Sinks.file<Session>({ path: `${output}/sessions` }) : Sinks.collect<Session>()).uid('sessions-out');
  late.sinkTo(output ? Sinks.file<PageView>({ path: `${output}/late` }) : Sinks.collect<PageView>()).uid('late-out');
});
