// Redis Streams → keyed state → PostgreSQL (2PC) on worker threads, against a real redis-server and a real
// PostgreSQL: a worker thread is killed while a COMMIT PREPARED is held on its way to the server (the
// checkpoint completed, its transaction is prepared, not committed). The restarted job commits it on
// restore, and the table ends with every entry's row exactly once.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckpointStats, type JobHandle, runJob, type StatusEvent } from '../../src/index.ts';
import { type PostgresServerHandle, startPostgresServer } from '../support/postgres-server.ts';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.ts';
import { startTcpHoldProxy } from '../support/tcp-hold-proxy.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-redis-pg-'));
let redisServer: RedisServerHandle;
let pgServer: PostgresServerHandle;
let redis: Redis;
let db: pg.Client;

beforeAll(async () => {
  [redisServer, pgServer] = await Promise.all([startRedisServer(), startPostgresServer()]);
  redis = new Redis(redisServer.url, { lazyConnect: true });
  await redis.connect();
  db = new pg.Client({ connectionString: pgServer.connectionString });
  await db.connect();
});
afterAll(async () => {
  redis?.disconnect();
  await db?.end();
  await Promise.all([redisServer?.close(), pgServer?.close()]);
  rmSync(root, { recursive: true, force: true });
});

async function append(stream: string, count: number, from: number): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (let i = from; i < from + count; i++) pipeline.xadd(stream, '*', 'user', `u${i % 5}`);
  return ((await pipeline.exec()) ?? []).map(([error, id]) => {
    if (error) throw error;
    return id as string;
  });
}

function expectedRows(entries: ReadonlyMap<string, readonly string[]>): string[] {
  const lines: string[] = [];
  for (const [stream, ids] of entries) {
    const counts = new Map<string, number>();
    ids.forEach((id, i) => {
      const key = `${stream}/u${i % 5}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      lines.push(`${key}#${n}=${id}`);
    });
  }
  return lines.sort();
}

async function tableRows(table: string): Promise<string[]> {
  const result = await db.query<{ key: string; n: number; entry: string }>(`SELECT key, n, entry FROM ${table}`);
  return result.rows.map((r) => `${r.key}#${r.n}=${r.entry}`).sort();
}

function next(job: JobHandle, event: 'checkpoint', accept: (stats: CheckpointStats) => boolean | Promise<boolean>, what: string): Promise<void>;
function next(job: JobHandle, event: 'status', accept: (status: StatusEvent) => boolean | Promise<boolean>, what: string): Promise<void>;
function next(job: JobHandle, event: 'checkpoint' | 'status', accept: (value: never) => boolean | Promise<boolean>, what: string): Promise<void> {
  const emitter = job as unknown as NodeJS.EventEmitter;
  return new Promise<void>((resolve, reject) => {
    const listener = async (value: unknown) => {
      if (!(await accept(value as never))) return;
      emitter.off(event, listener);
      resolve();
    };
    emitter.on(event, listener);
    job.done.then(
      (r) => reject(new Error(`job ended ${r.status} before ${what}`)),
      (e: unknown) => reject(new Error(`job failed before ${what}: ${String(e)}`)),
    );
  });
}

describe('Redis Streams → PostgreSQL exactly once on worker threads', () => {
  it('a worker killed between PREPARE and COMMIT PREPARED: the restore commits the prepared transaction, every row once', async () => {
    const streams = ['clicks:{0}', 'clicks:{1}', 'clicks:{2}'];
    const table = 'click_counts';
    await db.query(`CREATE TABLE ${table} (key text NOT NULL, n int NOT NULL, entry text NOT NULL)`);
    const entries = new Map<string, string[]>(streams.map((s) => [s, []]));
    const add = async (count: number) => {
      for (const s of streams) entries.get(s)!.push(...(await append(s, count, entries.get(s)!.length)));
    };
    const total = () => [...entries.values()].reduce((n, ids) => n + ids.length, 0);
    const proxy = await startTcpHoldProxy(pgServer.port);
    const crashFile = join(root, 'crash-now');
    const marker = join(root, 'crashed');
    try {
      await add(200);
      const job = await runJob(new URL('./jobs/redis-to-postgres.ts', import.meta.url), {
        jobId: 'redis-to-postgres',
        parallelism: 2,
        checkpointStorage: pathToFileURL(join(root, 'checkpoints')).href,
        restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
        params: {
          redis: redisServer.url,
          streams: streams.join(','),
          postgres: pgServer.connectionString.replace(`:${pgServer.port}/`, `:${proxy.port}/`),
          table,
          crashWhenFile: crashFile,
          crashMarker: marker,
        },
      });
      // 1. Some rows are committed; then the next COMMIT PREPARED is held at the proxy.
      await next(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await tableRows(table)).length > 0, 'rows were committed');
      const held = proxy.holdNext(/COMMIT PREPARED/);
      await add(200);
      const commit = await held;
      const gid = /COMMIT PREPARED '([^']+)'/.exec(commit)?.[1] ?? '';
      expect((await db.query('SELECT gid FROM pg_prepared_xacts')).rows.map((r) => r.gid)).toContain(gid);
      // 2. A worker thread dies; the held statement never reaches the server.
      const restarted = next(job, 'status', (e) => e.status === 'RESTARTING', 'the job restarted');
      writeFileSync(crashFile, 'kill');
      await restarted;
      proxy.dropHeld();
      await next(job, 'status', (e) => e.status === 'RUNNING', 'the job ran again');
      // 3. The restored job committed the held transaction; more entries arrive.
      await add(200);
      await next(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await tableRows(table)).length >= total(), 'every entry has its row');
      const result = await job.stop({ mode: 'terminate' });

      expect(existsSync(marker)).toBe(true);
      expect(result.attempts).toBe(2);
      expect(await tableRows(table)).toEqual(expectedRows(entries));
      expect((await db.query('SELECT gid FROM pg_prepared_xacts')).rows).toEqual([]);
      expect(job.liveWorkerThreads()).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
