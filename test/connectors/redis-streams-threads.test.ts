// Sources.redisStreams on worker threads (runJob) against a real redis-server: a worker thread is killed
// mid-stream, the job restarts from its last checkpoint, and the committed output equals one
// uninterrupted run: each stream resumed exactly at its checkpointed entry ID.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob, type StatusEvent } from '../../src/index.ts';
import { committedLines } from '../e2e/checkpoint-helpers.ts';
import { nextEvent as next } from '../support/job-events.ts';
import { type RedisServerHandle, startRedisServer } from '../support/redis-server.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-redis-threads-'));
let server: RedisServerHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

async function append(stream: string, count: number, from: number): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (let i = from; i < from + count; i++) pipeline.xadd(stream, '*', 'user', `u${i % 5}`, 'seq', String(i));
  return ((await pipeline.exec()) ?? []).map(([error, id]) => {
    if (error) throw error;
    return id as string;
  });
}

function expectedCounts(entries: ReadonlyMap<string, readonly string[]>): string[] {
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

describe('Sources.redisStreams on worker threads', () => {
  it('a worker thread killed mid-stream: restart from the checkpoint, every entry committed exactly once', async () => {
    const streams = ['orders:{0}', 'orders:{1}', 'orders:{2}'];
    const entries = new Map<string, string[]>(streams.map((s) => [s, []]));
    const add = async (count: number) => {
      for (const s of streams) entries.get(s)!.push(...(await append(s, count, entries.get(s)!.length)));
    };
    const total = () => [...entries.values()].reduce((n, ids) => n + ids.length, 0);
    const output = join(root, 'out');
    const crashFile = join(root, 'crash-now');
    const marker = join(root, 'crashed');

    await add(300);
    const job = await runJob(new URL('./jobs/redis-count.ts', import.meta.url), {
      jobId: 'redis-threads',
      parallelism: 2,
      checkpointStorage: pathToFileURL(join(root, 'checkpoints')).href,
      restartStrategy: { type: 'fixedDelay', attempts: 2, delayMs: 10 },
      params: { url: server.url, streams: streams.join(','), output, crashWhenFile: crashFile, crashMarker: marker },
    });
    const statuses: StatusEvent[] = [];
    job.on('status', (e) => statuses.push(e));
    // 1. A checkpoint has committed part of the first 900 entries.
    await next(job, 'checkpoint', (c) => c.status === 'COMPLETED' && committedLines(output).length > 0, 'a checkpoint committed output');
    // 2. More entries arrive, and a worker thread dies among them.
    const restarted = next(job, 'status', (e) => e.status === 'RESTARTING', 'the job restarted');
    await add(300);
    writeFileSync(crashFile, 'kill');
    await restarted;
    await next(job, 'status', (e) => e.status === 'RUNNING', 'the job ran again');
    // 3. The restarted attempt reads on from the restored positions; more entries arrive meanwhile.
    await add(300);
    await next(job, 'checkpoint', (c) => c.status === 'COMPLETED' && committedLines(output).length >= total(), 'every entry was committed');
    const result = await job.stop({ mode: 'terminate' });

    expect(existsSync(marker)).toBe(true);
    expect(result.attempts).toBe(2);
    expect(result.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(statuses.map((s) => s.status)).toContain('RESTARTING');
    expect(committedLines(output)).toEqual(expectedCounts(entries));
    expect(job.liveWorkerThreads()).toBe(0);
    // The source's connections are closed with the job.
    const clients = ((await redis.call('CLIENT', 'LIST')) as string).split('\n').filter((line) => / name=baton:/.test(line));
    expect(clients).toEqual([]);
  });
});
