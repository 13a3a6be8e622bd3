// End to end on worker threads: Redis Streams (sharded by user over 4 stream keys) → running count per
// user in keyed state → Sinks.postgres (2PC), against a real redis-server and PostgreSQL. After each
// fault the table equals the table of one uninterrupted run over the same input, row for row, and no
// prepared transaction is left.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobParam, type RunJobOptions, runJob } from '../../src/index.ts';
import { nextEvent } from '../support/job-events.ts';
import { type RedisAndPostgres, ShardedClicks, startRedisAndPostgres } from '../support/redis-postgres.ts';
import { startTcpHoldProxy } from '../support/tcp-hold-proxy.ts';

const JOB = new URL('./jobs/redis-to-postgres.ts', import.meta.url);
/** The input arrives in three parts: before the fault, around it, after it. */
const PARTS = [400, 400, 400] as const;

const root = mkdtempSync(join(tmpdir(), 'baton-redis-pg-e2e-'));
let servers: RedisAndPostgres;
beforeAll(async () => {
  servers = await startRedisAndPostgres();
});
afterAll(async () => {
  await servers?.close();
  rmSync(root, { recursive: true, force: true });
});

function jobOptions(name: string, table: string, clicks: ShardedClicks, params: Record<string, JobParam> = {}, postgres = servers.pgServer.connectionString): RunJobOptions {
  return {
    jobId: name,
    parallelism: 2,
    checkpointStorage: pathToFileURL(join(root, name)).href,
    params: { redis: servers.redisServer.url, streams: clicks.streams.join(','), postgres, table, keyBy: 'user', ...params },
  };
}

/** The rows one uninterrupted (bounded) run writes for the whole input: computed once, by the job itself. */
let referenceRun: Promise<string[]> | undefined;
function reference(): Promise<string[]> {
  referenceRun ??= (async () => {
    const clicks = new ShardedClicks(servers.redis, 'reference');
    for (const part of PARTS) await clicks.append(part);
    await servers.createCountTable('reference');
    const job = await runJob(JOB, jobOptions('reference', 'reference', clicks, { end: 'bounded' }));
    const result = await job.done;
    expect(result.status).toBe('FINISHED');
    const rows = await servers.rows('reference');
    // The engine's uninterrupted run agrees with the count computed here: a wrong reference cannot pass unseen.
    expect(rows).toEqual(clicks.expectedRows());
    expect(rows).toHaveLength(PARTS[0] + PARTS[1] + PARTS[2]);
    return rows;
  })();
  return referenceRun;
}

describe('Redis Streams → keyed count → PostgreSQL (2PC), end to end on worker threads', { timeout: 60_000 }, () => {
  it('one uninterrupted run is the reference', async () => {
    expect(await reference()).toHaveLength(1200);
  });

  it('a worker thread killed while a checkpoint is being prepared: the job restarts from the latest checkpoint, the table equals the reference', async () => {
    const expected = await reference();
    const table = 'worker_kill';
    await servers.createCountTable(table);
    const clicks = new ShardedClicks(servers.redis, table);
    const proxy = await startTcpHoldProxy(servers.pgServer.port);
    const crashWhenFile = join(root, 'crash-now');
    const crashMarker = join(root, 'crashed');
    try {
      await clicks.append(PARTS[0]);
      const postgres = servers.pgServer.connectionString.replace(`:${servers.pgServer.port}/`, `:${proxy.port}/`);
      const job = await runJob(JOB, { ...jobOptions(table, table, clicks, { crashWhenFile, crashMarker }, postgres), restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 } });
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length > 0, 'rows were committed');
      // Mid-stream: a subtask's transaction holds rows written but not prepared; its PREPARE TRANSACTION
      // is held on its way to the server, so that checkpoint cannot complete. Then a worker thread dies.
      const held = proxy.holdNext(/PREPARE TRANSACTION/);
      await clicks.append(PARTS[1]);
      await held;
      const restarted = nextEvent(job, 'status', (e) => e.status === 'RESTARTING', 'the job restarted');
      writeFileSync(crashWhenFile, 'kill');
      await restarted;
      proxy.dropHeld();
      await nextEvent(job, 'status', (e) => e.status === 'RUNNING', 'the job ran again');
      await clicks.append(PARTS[2]);
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length >= clicks.total, 'every click has its row');
      const result = await job.stop({ mode: 'suspend' });

      expect(existsSync(crashMarker)).toBe(true);
      expect(result.attempts).toBe(2);
      expect(await servers.rows(table)).toEqual(expected);
      expect(await servers.prepared()).toEqual([]);
      expect(job.liveWorkerThreads()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('PostgreSQL goes away for a few seconds with a prepared transaction outstanding: one restart, the restore waits for the database, the table equals the reference', async () => {
    const expected = await reference();
    const table = 'db_outage';
    await servers.createCountTable(table);
    const clicks = new ShardedClicks(servers.redis, table);
    const { pgServer } = servers;
    const proxy = await startTcpHoldProxy(pgServer.port);
    try {
      await clicks.append(PARTS[0]);
      const postgres = pgServer.connectionString.replace(`:${pgServer.port}/`, `:${proxy.port}/`);
      const job = await runJob(JOB, { ...jobOptions(table, table, clicks, {}, postgres), restartStrategy: { type: 'fixedDelay', attempts: 3, delayMs: 10 } });
      const failedCheckpoints: string[] = [];
      job.on('checkpoint', (c) => {
        if (c.status === 'FAILED') failedCheckpoints.push(c.failure ?? '');
      });
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length > 0, 'rows were committed');
      // A checkpoint completes; its COMMIT PREPARED is held on the way: a prepared transaction is outstanding.
      const held = proxy.holdNext(/COMMIT PREPARED/);
      await clicks.append(PARTS[1]);
      const gid = /COMMIT PREPARED '([^']+)'/.exec(await held)?.[1] ?? '';
      expect(await servers.prepared()).toContain(gid);
      // The database goes away (a fast shutdown: sessions ended, the prepared transaction kept on disk)
      // while input goes on arriving: the sink's next statement fails, the job restarts.
      let restarted = false;
      const restoring = nextEvent(job, 'status', (e) => (restarted ||= e.status === 'RESTARTING') && e.status === 'RESTORING', 'the restarted job restores');
      await pgServer.stop();
      proxy.dropHeld();
      await clicks.append(PARTS[2]);
      await restoring;
      // The restore keeps trying to reach the database (each attempt refused) instead of failing the job.
      await proxy.accepted(12);
      expect(job.status).toBe('RESTORING');
      await pgServer.start();
      await nextEvent(job, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length >= clicks.total, 'every click has its row');
      const result = await job.stop({ mode: 'suspend' });

      // One restart for the whole outage: the restore waited, it did not spend the attempts left.
      expect(result.attempts).toBe(2);
      expect(failedCheckpoints.length).toBeGreaterThan(0);
      expect(await servers.rows(table)).toEqual(expected);
      expect(await servers.prepared()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
