// Redis Streams → keyed state → PostgreSQL (2PC) on worker threads, against a real redis-server and a real
// PostgreSQL: a worker thread is killed while a COMMIT PREPARED is held on its way to the server (the
// checkpoint completed, its transaction is prepared, not committed). The restarted job commits it on
// restore, and the table ends with every entry's row exactly once.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import { nextEvent as next } from '../support/job-events.ts';
import { type RedisAndPostgres, startRedisAndPostgres } from '../support/redis-postgres.ts';
import { startTcpHoldProxy } from '../support/tcp-hold-proxy.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-redis-pg-'));
let servers: RedisAndPostgres;

beforeAll(async () => {
  servers = await startRedisAndPostgres();
});
afterAll(async () => {
  await servers?.close();
  rmSync(root, { recursive: true, force: true });
});

async function append(stream: string, count: number, from: number): Promise<string[]> {
  const pipeline = servers.redis.pipeline();
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

const tableRows = (table: string) => servers.rows(table);

describe('Redis Streams → PostgreSQL exactly once on worker threads', () => {
  it('a worker killed between PREPARE and COMMIT PREPARED: the restore commits the prepared transaction, every row once', async () => {
    const streams = ['clicks:{0}', 'clicks:{1}', 'clicks:{2}'];
    const table = 'click_counts';
    await servers.createCountTable(table);
    const { redisServer, pgServer } = servers;
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
      expect(await servers.prepared()).toContain(gid);
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
      expect(await servers.prepared()).toEqual([]);
      expect(job.liveWorkerThreads()).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
