// The clicks the example job reads: appended to sharded Redis streams (XADD), and the check that the table
// holds every one of them exactly once. Used by `baton demo redis-postgres` and the connectors bench.
import type { Redis } from 'ioredis';

/** A click as it was appended: its stream, the entry ID Redis gave it, its user. */
export interface ProducedClick {
  readonly stream: string;
  readonly id: string;
  readonly user: string;
}

/** A row of the example job's table (see userClicksTableSql). */
export interface UserClicksRow {
  readonly stream: string;
  readonly entry: string;
  readonly user_id: string;
  readonly clicks: number;
}

/** The user of click number i: a fixed, well-spread assignment over `users` users. @example clickUser(7, 100) // 'u29' */
export function clickUser(i: number, users: number): string {
  return `u${(Math.imul(i, 2654435761) >>> 0) % users}`;
}

/**
 * Appends clicks `from` … `from + count - 1` in one pipeline, click i to `streams[i % streams.length]`.
 *
 * @example const clicks = await appendClicks(redis, ['clicks:{0}', 'clicks:{1}'], 0, 1_000, 100);
 */
export async function appendClicks(redis: Redis, streams: readonly string[], from: number, count: number, users: number): Promise<ProducedClick[]> {
  const pipeline = redis.pipeline();
  const clicks: Array<{ stream: string; user: string }> = [];
  for (let i = from; i < from + count; i++) {
    const click = { stream: streams[i % streams.length], user: clickUser(i, users) };
    clicks.push(click);
    pipeline.xadd(click.stream, '*', 'user', click.user, 'page', `/products/${i % 97}`);
  }
  const replies = (await pipeline.exec()) ?? [];
  return clicks.map((click, i) => {
    const [error, id] = replies[i] ?? [new Error('no reply')];
    if (error) throw error;
    return { ...click, id: id as string };
  });
}

/**
 * Appends clicks at `ratePerSec` (every 50 ms, what is due by then) until stopped.
 *
 * @example const producer = new ClickProducer(redis, ['clicks'], 100, 2_000); producer.start(); ...; await producer.stop();
 */
export class ClickProducer {
  readonly produced: ProducedClick[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> = Promise.resolve();
  private failure: unknown;
  private startedAt = 0;
  private limit = Number.POSITIVE_INFINITY;
  private reachedLimit: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly streams: readonly string[],
    private readonly users: number,
    private readonly ratePerSec: number,
  ) {}

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => {
      // One append at a time: the IDs of a stream come back in the order they were appended.
      this.tick = this.tick.then(async () => {
        const due = Math.min(Math.floor(((performance.now() - this.startedAt) / 1000) * this.ratePerSec), this.limit) - this.produced.length;
        if (due > 0 && this.failure === undefined) {
          try {
            this.produced.push(...(await appendClicks(this.redis, this.streams, this.produced.length, due, this.users)));
          } catch (error) {
            this.failure = error;
          }
        }
        if (this.produced.length >= this.limit || this.failure !== undefined) this.reachedLimit?.();
      });
    }, 50);
  }

  /** Appends until `total` clicks were produced in all, then stops (rejects if an append failed). */
  async stopAt(total: number): Promise<void> {
    this.limit = total;
    await new Promise<void>((resolve) => {
      this.reachedLimit = resolve;
    });
    await this.stop();
  }

  /** Stops appending; resolves once the last append is in (rejects if one failed). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.tick;
    if (this.failure !== undefined) throw this.failure;
  }
}

/**
 * Why `rows` are not exactly the produced clicks once each with each user's clicks counted 1, 2, …, n
 * (no click lost or written twice, no count skipped or repeated), or undefined when they are.
 *
 * @example const problem = exactlyOnceProblem((await db.query('SELECT * FROM user_clicks')).rows, producer.produced);
 */
export function exactlyOnceProblem(rows: readonly UserClicksRow[], produced: readonly ProducedClick[]): string | undefined {
  const expected = new Map(produced.map((c) => [`${c.stream}/${c.id}`, c.user]));
  const seen = new Set<string>();
  const clicksPerUser = new Map<string, number[]>();
  for (const row of rows) {
    const key = `${row.stream}/${row.entry}`;
    if (seen.has(key)) return `click ${key} has two rows`;
    seen.add(key);
    const user = expected.get(key);
    if (user === undefined) return `row for ${key}, which was never produced`;
    if (user !== row.user_id) return `click ${key} is ${user}'s, its row says ${row.user_id}`;
    const clicks = clicksPerUser.get(user);
    if (clicks) clicks.push(row.clicks);
    else clicksPerUser.set(user, [row.clicks]);
  }
  if (seen.size !== expected.size) return `${expected.size - seen.size} of ${expected.size} clicks have no row`;
  for (const [user, clicks] of clicksPerUser) {
    const sorted = [...clicks].sort((a, b) => a - b);
    const gap = sorted.findIndex((n, i) => n !== i + 1);
    if (gap !== -1) return `${user}'s clicks are counted ${sorted.slice(Math.max(0, gap - 1), gap + 2).join(', ')}…, expected 1 to ${sorted.length}`;
  }
  return undefined;
}
