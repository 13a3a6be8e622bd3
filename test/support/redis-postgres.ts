// Test helper for Redis Streams → PostgreSQL tests: both real servers with a client each, the count
// table the test jobs write (test/connectors/jobs/redis-to-postgres.ts), its rows and the server's
// prepared transactions, and a deterministic input sharded by user over several stream keys.
import { Redis } from 'ioredis';
import pg from 'pg';
import { type PostgresServerHandle, startPostgresServer } from './postgres-server.ts';
import { type RedisServerHandle, startRedisServer } from './redis-server.ts';
import { seededRandom } from './seeded-random.ts';

/** A real redis-server and PostgreSQL, a client connected to each. */
export interface RedisAndPostgres {
  readonly redisServer: RedisServerHandle;
  readonly pgServer: PostgresServerHandle;
  readonly redis: Redis;
  /** Queries of the test; a pool, so it works again after the server was stopped and started. */
  readonly db: pg.Pool;
  /** The count table's rows as sorted `key#n=entry` lines. */
  rows(table: string): Promise<string[]>;
  /** Every prepared transaction on the server (gid), sorted. */
  prepared(): Promise<string[]>;
  /** Creates the table the test jobs write: (key, n, entry). */
  createCountTable(table: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts both servers (in parallel) and connects a client to each.
 *
 * @example
 * const servers = await startRedisAndPostgres();
 * await servers.createCountTable('counts');
 * // ... run a job ...
 * expect(await servers.prepared()).toEqual([]);
 * await servers.close();
 */
export async function startRedisAndPostgres(): Promise<RedisAndPostgres> {
  const [redisServer, pgServer] = await Promise.all([startRedisServer(), startPostgresServer()]);
  const redis = new Redis(redisServer.url, { lazyConnect: true });
  const db = new pg.Pool({ connectionString: pgServer.connectionString, max: 2 });
  // An idle connection ended by a stop() of the server (an outage test): the pool opens another.
  db.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    await Promise.allSettled([db.end(), redisServer.close(), pgServer.close()]);
    throw error;
  }
  return {
    redisServer,
    pgServer,
    redis,
    db,
    async rows(table) {
      const result = await db.query<{ key: string; n: number; entry: string }>(`SELECT key, n, entry FROM ${table}`);
      return result.rows.map((r) => `${r.key}#${r.n}=${r.entry}`).sort();
    },
    async prepared() {
      return (await db.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts ORDER BY gid')).rows.map((r) => r.gid);
    },
    async createCountTable(table) {
      await db.query(`CREATE TABLE ${table} (key text NOT NULL, n int NOT NULL, entry text NOT NULL)`);
    },
    async close() {
      redis.disconnect();
      await db.end().catch(() => undefined);
      await Promise.all([redisServer.close(), pgServer.close()]);
    },
  };
}

/**
 * Clicks of `users` users, sharded by user over `shards` stream keys `<prefix>:{0..shards-1}`, so each
 * user's clicks are in one stream, in order. The content depends only on how many were appended:
 * entry i (from 0) is user `u<k>` (k from a fixed seed) with the explicit ID `<i+1>-0`, so two
 * prefixes given the same appends hold the same clicks under the same IDs, and a running count per
 * user gives the same rows for both (one reference run serves every faulty run).
 */
export class ShardedClicks {
  readonly streams: readonly string[];
  private readonly users: string[] = [];
  private readonly random = seededRandom(15);

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly shards = 4,
    private readonly userCount = 12,
  ) {
    this.streams = Array.from({ length: shards }, (_, i) => `${prefix}:{${i}}`);
  }

  get total(): number {
    return this.users.length;
  }

  /** Appends the next `count` clicks (one pipeline). */
  async append(count: number): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (let n = 0; n < count; n++) {
      const k = Math.floor(this.random() * this.userCount);
      this.users.push(`u${k}`);
      pipeline.xadd(this.streams[k % this.shards], `${this.users.length}-0`, 'user', `u${k}`);
    }
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }

  /** The rows a running count per user gives for every click so far: `key#n=entry`, sorted. */
  expectedRows(): string[] {
    const counts = new Map<string, number>();
    return this.users
      .map((user, i) => {
        const n = (counts.get(user) ?? 0) + 1;
        counts.set(user, n);
        return `${user}#${n}=${i + 1}-0`;
      })
      .sort();
  }
}
