// The shadow mode on real servers: Redis Streams in (positions are entry IDs), PostgreSQL out with two-phase commit.
// Entries keep arriving while A runs, B shadows it, and the output switches at the cut: every entry's row exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.ts';
import { checkpointed, reached, untilAfter } from '../e2e/shadow-helpers.ts';
import { nextEvent } from '../support/job-events.ts';
import { type RedisAndPostgres, ShardedClicks, startRedisAndPostgres } from '../support/redis-postgres.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-shadow-redis-pg-'));
let servers: RedisAndPostgres;

beforeAll(async () => {
  servers = await startRedisAndPostgres();
});
afterAll(async () => {
  await servers?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('shadow mode: Redis Streams → PostgreSQL (2PC)', { timeout: 120_000 }, () => {
  it('entries arrive all along; A p=2 live, B p=1 in shadow, promoted: the table holds every entry’s row exactly once, no transaction left prepared', async () => {
    const table = 'shadow_counts';
    await servers.createCountTable(table);
    // Clicks sharded by user over two streams (each user's clicks in one stream, in order): a running count per user is deterministic.
    const clicks = new ShardedClicks(servers.redis, 'shadow-clicks', 2, 10);
    let appends: Promise<void> = Promise.resolve();
    const add = (count: number) => {
      appends = appends.then(() => clicks.append(count));
    };
    // A live input paced by the jobs themselves: every checkpoint of A or B lets more entries in.
    let live = true;
    const pace = () => live && add(40);
    add(200);
    const common = {
      jobId: 'shadow-redis-pg',
      checkpointStorage: pathToFileURL(join(root, 'checkpoints')).href,
      params: { redis: servers.redisServer.url, streams: clicks.streams.join(','), postgres: servers.pgServer.connectionString, table, keyBy: 'user' },
    };
    const a = await runJob(new URL('./jobs/redis-to-postgres.ts', import.meta.url), { ...common, parallelism: 2, stopRequestPollMs: 20, handoverPollMs: 10 });
    a.on('checkpoint', pace);
    await checkpointed(a, 2);
    const b = await runJob(new URL('./jobs/redis-to-postgres.ts', import.meta.url), {
      ...common,
      parallelism: 1,
      handover: { mode: 'shadow', pollMs: 20, leaseMs: 3_000, shadow: { sampleEveryMs: 50, sampleSize: 20 } },
    });
    b.on('checkpoint', pace);
    await reached(b, 'SHADOW');
    // B processes the live entries itself (its sink only samples them: no shadow destination).
    await untilAfter(b, 'shadow-sample', () => true);
    b.promote();
    await reached(b, 'RUNNING');
    const ra = await a.done;
    expect(ra.status).toBe('SUSPENDED');
    // The input stops; B commits the rest.
    live = false;
    await appends;
    const all = clicks.total;
    await nextEvent(b, 'checkpoint', async (c) => c.status === 'COMPLETED' && (await servers.rows(table)).length >= all, 'every entry has its row');
    const rb = await b.stop({ mode: 'suspend' });
    expect(rb.status).toBe('SUSPENDED');
    const shadow = rb.handover!.shadow!;
    expect(shadow.cutCheckpoint).toBe(ra.stoppedAtCheckpoint);
    expect(shadow.shadowRecords).toBeGreaterThan(0);
    expect(await servers.rows(table)).toEqual(clicks.expectedRows());
    expect(await servers.prepared()).toEqual([]);
    console.log(`Redis → PostgreSQL shadow: ${all} entries, cut at chk-${shadow.cutCheckpoint}, overlap ${shadow.overlapMs} ms, live gap ${shadow.liveGapMs} ms`);
  });
});
