// `baton demo redis-postgres`: the handover demo on real servers. Clicks stream into Redis; deployment A counts
// them per user into PostgreSQL exactly once; B takes over when it is ready; the table must hold every click once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ClickProducer, exactlyOnceProblem, type UserClicksRow } from '../../../examples/redis-postgres/clicks.ts';
import { userClicksTableSql } from '../../../examples/redis-postgres/job.ts';
import { BatonInternalError } from '../../errors/index.ts';
import { runJob } from '../../handover/index.ts';
import { checkRedisServerBinary, type PostgresServerHandle, type RedisServerHandle, startPostgresServer, startRedisServer } from '../../local-servers/index.ts';
import { renderTimelineText } from '../../report/timeline/index.ts';
import type { JobHandle } from '../../runtime/index.ts';
import type { JobResult } from '../../runtime/index.ts';
import { exampleJob } from '../examples.ts';
import { formatCount } from '../format.ts';
import { handoverTimeline, narrate } from './demo-timeline.ts';

const JOB = exampleJob('redis-postgres/job');
const TABLE = 'user_clicks';
const INTERVAL_MS = 250;

export interface RedisPostgresDemoOptions {
  /** Clicks appended per second while the demo runs. */
  readonly rate: number;
  /** Stream shards (`clicks:{0}` …), each a split of the source. */
  readonly streams: number;
  readonly users: number;
  /** Clicks appended after B took over, before the producer stops. */
  readonly after: number;
}

export interface RedisPostgresDemoResult {
  readonly a: JobResult;
  readonly b: JobResult;
  readonly clicks: number;
  readonly downtimeMs: number | undefined;
}

/** Resolves with B's first completed checkpoint after which the table holds `count` rows; rejects if B ends first. */
function allRowsCommitted(b: JobHandle, db: pg.Client, count: () => number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = async (c: { status: string }) => {
      if (c.status !== 'COMPLETED') return;
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE}`);
      if (rows[0].n < count()) return;
      b.off('checkpoint', listener);
      resolve();
    };
    const listener = (c: { status: string }) => void check(c).catch(reject);
    b.on('checkpoint', listener);
    b.done.then(
      (r) => reject(new BatonInternalError(`B ended ${r.status} before every click was committed`)),
      (e: unknown) => reject(e),
    );
  });
}

/**
 * Starts redis-server and PostgreSQL on 127.0.0.1 (throw-away directories), runs the handover
 * demo on them, prints the timeline and the downtime, and checks the table holds every click
 * exactly once (throws if not). A missing redis-server is a RedisServerMissingError naming the
 * command that installs it.
 */
export async function runRedisPostgresDemo(options: RedisPostgresDemoOptions, out: (line: string) => void): Promise<RedisPostgresDemoResult> {
  const streams = Array.from({ length: options.streams }, (_, i) => `clicks:{${i}}`);
  out(`baton demo redis-postgres: clicks → Redis Streams (${streams.join(', ')}) → clicks per user in keyed state → PostgreSQL table ${TABLE} (Sinks.postgres 'exactly-once': two-phase commit per checkpoint)`);
  out('starting redis-server and PostgreSQL on 127.0.0.1 (throw-away directories, removed at the end)...');
  const neededBy = '`baton demo redis-postgres`';
  // Before anything starts: a missing redis-server is the likely problem, and its message says how to install it.
  checkRedisServerBinary(undefined, neededBy);
  const servers = await Promise.allSettled([startRedisServer({ neededBy }), startPostgresServer()]);
  const [redisServer, pgServer] = servers.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as [RedisServerHandle | undefined, PostgresServerHandle | undefined];
  const dir = mkdtempSync(join(tmpdir(), 'baton-demo-redis-pg-'));
  const jobs: JobHandle[] = [];
  let redis: Redis | undefined;
  let db: pg.Client | undefined;
  let producer: ClickProducer | undefined;
  try {
    const failed = servers.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed || !redisServer || !pgServer) throw failed?.reason;
    out(`  redis-server at ${redisServer.url}, PostgreSQL at ${pgServer.host}:${pgServer.port}`);
    redis = new Redis(redisServer.url, { lazyConnect: true });
    db = new pg.Client({ connectionString: pgServer.connectionString });
    await Promise.all([redis.connect(), db.connect()]);
    await db.query(userClicksTableSql(TABLE, 'exactly-once'));
    const clicks = new ClickProducer(redis, streams, options.users, options.rate);
    producer = clicks;
    clicks.start();
    out(`producing ${formatCount(options.rate)} clicks/s of ${formatCount(options.users)} users`);

    const storage = pathToFileURL(join(dir, 'checkpoints')).href;
    const params = { redis: redisServer.url, streams: streams.join(','), postgres: pgServer.connectionString, table: TABLE, intervalMs: INTERVAL_MS };
    const t0 = Date.now();
    const at = () => `+${String(Date.now() - t0).padStart(6)} ms`;
    out(`A: starting examples/redis-postgres/job.ts (parallelism 2, checkpoints every ${INTERVAL_MS} ms)`);
    const a = await runJob(JOB, { jobId: 'clicks', parallelism: 2, checkpointStorage: storage, params });
    jobs.push(a);
    narrate(a, 'A', at, out);
    out(`${at()}  B starts too, taking over when it is ready (when-ready)`);
    const b = await runJob(JOB, { jobId: 'clicks', parallelism: 2, checkpointStorage: storage, params, handover: { targetCheckpoint: 'when-ready', timeoutMs: 120_000, pollMs: 50 } });
    jobs.push(b);
    narrate(b, 'B', at, out);

    // B runs: the producer goes on for `after` more clicks, then stops; B stops once all of them are committed.
    await new Promise<void>((resolve, reject) => {
      b.on('status', (e) => e.status === 'RUNNING' && resolve());
      b.done.then((r) => reject(new BatonInternalError(`B ended ${r.status} before it took over`)), reject);
    });
    await clicks.stopAt(clicks.produced.length + options.after);
    out(`${at()}  producer stopped after ${formatCount(clicks.produced.length)} clicks; B stops once its checkpoint has committed all of them`);
    await allRowsCommitted(b, db, () => clicks.produced.length);
    const rb = await b.stop({ mode: 'suspend' });
    const ra = await a.done;

    out('');
    for (const line of renderTimelineText(handoverTimeline(ra, rb)).split('\n')) out(line);
    out('');
    const { rows } = await db.query<UserClicksRow>(`SELECT stream, entry, user_id, clicks FROM ${TABLE}`);
    const problem = exactlyOnceProblem(rows, clicks.produced);
    out(`${formatCount(clicks.produced.length)} clicks produced; ${TABLE} has ${formatCount(rows.length)} rows; every click once, each user's clicks counted 1..n: ${problem === undefined ? 'yes' : `NO (${problem})`}`);
    const prepared = await db.query('SELECT gid FROM pg_prepared_xacts');
    out(`prepared transactions left: ${prepared.rows.length}`);
    const downtimeMs = rb.handover?.downtimeMs;
    out(`downtime ${downtimeMs ?? '?'} ms (A's last record → B's first record)`);
    if (problem !== undefined || prepared.rows.length > 0) throw new BatonInternalError('the demo table is not exactly once');
    return { a: ra, b: rb, clicks: clicks.produced.length, downtimeMs };
  } finally {
    // After a failure: no job or producer may outlive the servers.
    await producer?.stop().catch(() => undefined);
    await Promise.allSettled(jobs.map((job) => job.cancel()));
    redis?.disconnect();
    await db?.end().catch(() => undefined);
    await Promise.allSettled([redisServer?.close(), pgServer?.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
