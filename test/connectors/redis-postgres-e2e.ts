// Shared by the Redis Streams → PostgreSQL end-to-end tests (threads, processes): the job, the input in
// parts, its parameters, and the reference: the rows of one uninterrupted run over the whole input.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type JobHandle, type JobParam, type RunJobOptions, runJob } from '../../src/index.ts';
import { codeCacheDir } from '../../src/runtime/code/index.ts';
import type { Deployment } from '../e2e/deployment.ts';
import { type RedisAndPostgres, ShardedClicks, startRedisAndPostgres } from '../support/redis-postgres.ts';

/** Redis Streams → running count per user (keyed state) → Sinks.postgres, exactly once. */
export const E2E_JOB = new URL('./jobs/redis-to-postgres.ts', import.meta.url);
export const E2E_JOB_PATH = fileURLToPath(E2E_JOB);
/** The input arrives in three parts: before the fault, around it, after it (1 200 clicks in all). */
export const PARTS = [400, 400, 400] as const;
export const TOTAL = PARTS[0] + PARTS[1] + PARTS[2];

/** `servers`' PostgreSQL URL with another port (a proxy's in front of it). */
export function viaPort(servers: RedisAndPostgres, port: number): string {
  return servers.pgServer.connectionString.replace(`:${servers.pgServer.port}/`, `:${port}/`);
}

/** The job's parameters: read `clicks`' streams, count per user, write `table` (through `postgres`, default the server itself). */
export function e2eParams(servers: RedisAndPostgres, clicks: ShardedClicks, table: string, extra: Record<string, JobParam> = {}): Record<string, JobParam> {
  return { redis: servers.redisServer.url, streams: clicks.streams.join(','), postgres: servers.pgServer.connectionString, table, keyBy: 'user', ...extra };
}

/** runJob options of job `jobId` checkpointing under `root`, parallelism 2. */
export function e2eOptions(root: string, jobId: string, params: Record<string, JobParam>): RunJobOptions {
  return { jobId, parallelism: 2, checkpointStorage: pathToFileURL(join(root, 'checkpoints')).href, params };
}

/** The same job for `baton run` in a child process. */
export function e2eCliArgs(options: RunJobOptions): string[] {
  const params = Object.entries(options.params ?? {}).flatMap(([key, value]) => ['--param', `${key}=${String(value)}`]);
  return ['--job-id', String(options.jobId), '-p', String(options.parallelism), '--checkpoint-storage', String(options.checkpointStorage), ...params];
}

/**
 * The environment of a `baton run` child: its temp files (the state directory a SIGKILLed process
 * leaves behind) under `root`, removed with it; the code cache shared with this process (same builds).
 */
export function e2eChildEnv(root: string): NodeJS.ProcessEnv {
  const tmp = join(root, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return { TMPDIR: tmp, BATON_CODE_CACHE: codeCacheDir() };
}

const references = new WeakMap<RedisAndPostgres, Promise<string[]>>();

/**
 * The rows one uninterrupted (bounded) run of the job writes for the whole input (every part):
 * computed once per servers, by the job itself, into table `reference`, and checked against the
 * count computed here (it rejects otherwise), so a wrong reference cannot pass unseen. A faulty
 * run's table must equal it.
 */
export function referenceRows(servers: RedisAndPostgres, root: string): Promise<string[]> {
  let rows = references.get(servers);
  if (rows === undefined) {
    rows = (async () => {
      const clicks = new ShardedClicks(servers.redis, 'reference');
      for (const part of PARTS) await clicks.append(part);
      await servers.createCountTable('reference');
      // Parallelism 1 (the faulty runs have 2): cheaper, and the rows must not depend on it.
      const job = await runJob(E2E_JOB, { ...e2eOptions(join(root, 'reference'), 'reference', e2eParams(servers, clicks, 'reference', { end: 'bounded' })), parallelism: 1 });
      // Thrown, not expect()ed: this runs while other tests do (see the test files' beforeAll).
      const result = await job.done;
      if (result.status !== 'FINISHED') throw new Error(`the reference run ended ${result.status}`);
      const written = await servers.rows('reference');
      const computed = clicks.expectedRows();
      if (written.length !== TOTAL || written.some((row, i) => row !== computed[i])) {
        throw new Error(`the reference run wrote ${written.length} rows, not the ${TOTAL} computed; first difference: ${written.find((row, i) => row !== computed[i])}`);
      }
      return written;
    })();
    references.set(servers, rows);
  }
  return rows;
}

/** What a test file of these end-to-end tests works with (valid inside its tests). */
export interface E2eContext {
  readonly servers: RedisAndPostgres;
  /** A throw-away directory of the file (checkpoints, result files). */
  readonly root: string;
  /** The reference rows (see referenceRows). */
  reference(): Promise<string[]>;
  /** A new count table `table`, and the (empty) clicks of streams `<table>:{0..3}` for it. */
  freshRun(table: string): Promise<ShardedClicks>;
  /** In a test: `table` equals the reference row for row, and no transaction is left prepared on the server. */
  expectReference(table: string): Promise<void>;
  /** `job` (or a child process), returned: canceled (killed) after the test if it still runs then (the test failed). */
  track<T extends JobHandle | Deployment>(job: T): T;
}

/**
 * Registers the file's beforeAll/afterAll: both servers, a temp directory, and the reference run,
 * started at once so it goes on while the faulty runs start (each awaits it when it compares).
 */
export function useE2eServers(prefix: string): E2eContext {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let servers: RedisAndPostgres | undefined;
  const tracked: Array<JobHandle | Deployment> = [];
  afterEach(async () => {
    for (const item of tracked.splice(0)) {
      if ('child' in item) {
        if (item.child.exitCode === null && item.child.signalCode === null) item.child.kill('SIGKILL');
      } else {
        await item.cancel().catch(() => undefined);
      }
    }
  });
  beforeAll(async () => {
    servers = await startRedisAndPostgres();
    referenceRows(servers, root).catch(() => undefined);
  });
  afterAll(async () => {
    await servers?.close();
    rmSync(root, { recursive: true, force: true });
  });
  const context: E2eContext = {
    get servers() {
      if (servers === undefined) throw new Error('useE2eServers: the servers start in beforeAll');
      return servers;
    },
    root,
    reference: () => referenceRows(context.servers, root),
    async freshRun(table) {
      await context.servers.createCountTable(table);
      return new ShardedClicks(context.servers.redis, table);
    },
    track(job) {
      tracked.push(job);
      return job;
    },
    async expectReference(table) {
      expect(await context.servers.rows(table)).toEqual(await context.reference());
      expect(await context.servers.prepared()).toEqual([]);
    },
  };
  return context;
}
