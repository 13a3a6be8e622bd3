// Sinks.postgres against a real PostgreSQL, in testJob: rows become visible only when their checkpoint
// completes, a crash loses nothing and repeats nothing, a kill between PREPARE and COMMIT PREPARED is
// resolved by the restore (and later orphans of the job rolled back), upserts, and the typed error when
// the server has prepared transactions off.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobTransactionKey, transactionId } from '../../src/connectors/postgres/index.ts';
import { defineJob, PostgresSinkError, type PostgresSinkOptions, PostgresUnavailableError, Sinks, Sources } from '../../src/index.ts';
import { TestCheckpoint, type TestDriver, testJob } from '../../src/testing/index.ts';
import { freePort } from '../support/free-port.ts';
import { type PostgresServerHandle, startPostgresServer } from '../support/postgres-server.ts';
import { startTcpHoldProxy, type TcpHoldProxy } from '../support/tcp-hold-proxy.ts';

interface Click {
  readonly user: string;
  readonly n: number;
}

let server: PostgresServerHandle;
let db: pg.Client;
let tables = 0;

beforeAll(async () => {
  server = await startPostgresServer();
  db = new pg.Client({ connectionString: server.connectionString });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await server?.close();
});

async function freshTable(unique = false): Promise<string> {
  const table = `clicks_${++tables}`;
  await db.query(`CREATE TABLE ${table} ("user" text ${unique ? 'PRIMARY KEY' : ''}, n int NOT NULL)`);
  return table;
}

async function rows(table: string): Promise<string[]> {
  const result = await db.query<{ user: string; n: number }>(`SELECT "user", n FROM ${table}`);
  return result.rows.map((r) => `${r.user}:${r.n}`).sort();
}

async function prepared(): Promise<string[]> {
  return (await db.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts ORDER BY gid')).rows.map((r) => r.gid);
}

const clicks = (from: number, count: number): Click[] => Array.from({ length: count }, (_, i) => ({ user: `u${(from + i) % 4}`, n: from + i }));
const lines = (records: readonly Click[]) => records.map((c) => `${c.user}:${c.n}`).sort();

const pgJob = (options: Omit<PostgresSinkOptions<Click>, 'connection'> & { connection?: PostgresSinkOptions<Click>['connection'] }) =>
  defineJob((env) => {
    env.enableCheckpointing({ intervalMs: 1_000 });
    env
      .fromSource(Sources.elements<Click>([]), 'clicks')
      .uid('clicks')
      .sinkTo(Sinks.postgres<Click>({ connection: server.connectionString, ...options }))
      .uid('pg');
  });

/** The driver's checkpoint `id`, as driver.checkpoint() would return it (for a checkpoint whose commit never ran). */
function checkpointOf(driver: TestDriver, id: number): TestCheckpoint {
  return new TestCheckpoint(id, driver.handle.jobId, driver.storage, driver.processingTime, new Map([['clicks', driver.inputLog('clicks')!]]), new Map([['pg', driver.sinkLog('pg')!]]));
}

describe("Sinks.postgres mode 'exactly-once'", () => {
  it('makes rows visible when their checkpoint completes; a crash and a rescaled restore commit every record once', async () => {
    const table = await freshTable();
    const job = pgJob({ mode: 'exactly-once', table, columns: ['user', 'n'], batch: 3 });
    const a = await testJob(job, { parallelism: 2 });
    await a.input<Click>('clicks').pushAll(clicks(0, 10));
    // Written (in batches of 3) inside open transactions: nothing visible, nothing prepared yet.
    expect(await rows(table)).toEqual([]);
    const cp = await a.checkpoint();
    expect(await rows(table)).toEqual(lines(clicks(0, 10)));
    expect(await prepared()).toEqual([]);
    await a.input<Click>('clicks').pushAll(clicks(10, 5));
    await a.crash();
    // The crash rolled back the open transactions: the 5 are not in the table, and nothing stays prepared.
    expect(await rows(table)).toEqual(lines(clicks(0, 10)));
    expect(await prepared()).toEqual([]);

    const b = await testJob(job, { parallelism: 3, restoreFrom: cp });
    // b replays the 5 pushed after the checkpoint, and goes on.
    await b.input<Click>('clicks').pushAll(clicks(15, 7));
    await b.checkpoint();
    expect(await rows(table)).toEqual(lines(clicks(0, 22)));
    const result = await b.finish();
    expect(result.status).toBe('FINISHED');
    expect(await rows(table)).toEqual(lines(clicks(0, 22)));
    expect(await prepared()).toEqual([]);
  });

  it('a kill between PREPARE and COMMIT PREPARED: the restore commits what the checkpoint prepared and rolls back the job’s later orphans', async () => {
    const table = await freshTable();
    const proxy: TcpHoldProxy = await startTcpHoldProxy(server.port);
    try {
      const connection = server.connectionString.replace(`:${server.port}/`, `:${proxy.port}/`);
      const job = pgJob({ mode: 'exactly-once', table, columns: ['user', 'n'], connection });
      const a = await testJob(job, { parallelism: 2, jobId: 'pg-kill-commit' });
      await a.input<Click>('clicks').pushAll(clicks(0, 12));
      // Checkpoint N completes (both subtasks prepared); the first COMMIT PREPARED is held at the proxy.
      const held = proxy.holdNext(/COMMIT PREPARED/);
      const stats = await a.handle.checkpoint();
      const commit = await held;
      expect(stats.status).toBe('COMPLETED');
      const jobKey = jobTransactionKey('pg-kill-commit', 'pg');
      // The held one is this job's transaction of checkpoint N (the other subtask's commit may go through).
      const heldGid = /COMMIT PREPARED '([^']+)'/.exec(commit)?.[1] ?? '';
      expect(heldGid).toMatch(new RegExp(`^baton-${jobKey}-[01]-${stats.id}-[0-9a-f]{8}$`));
      expect(await prepared()).toContain(heldGid);
      // Another transaction of this job, prepared for a later checkpoint that never completed, and one of another job.
      const orphan = transactionId(jobKey, 0, stats.id + 5, 'deadbeef');
      const foreign = transactionId(jobTransactionKey('another-job', 'pg'), 0, 1, 'cafebabe');
      for (const [gid, user] of [[orphan, 'orphan'], [foreign, 'foreign']]) {
        const c = new pg.Client({ connectionString: server.connectionString });
        await c.connect();
        await c.query('BEGIN');
        await c.query(`INSERT INTO ${table} ("user", n) VALUES ($1, -1)`, [user]);
        await c.query(`PREPARE TRANSACTION '${gid}'`);
        await c.end();
      }
      // The kill: the job goes, the held COMMIT PREPARED never reaches the server. Released only once
      // the job is gone, as after a real kill: a live writer would send it again on a new connection.
      await a.crash();
      proxy.dropHeld();
      expect(await prepared()).toEqual(expect.arrayContaining([heldGid, orphan, foreign]));
      const visibleBefore = await rows(table);
      expect(visibleBefore.length).toBeLessThan(12);

      const b = await testJob(job, { parallelism: 1, restoreFrom: checkpointOf(a, stats.id), jobId: 'pg-kill-commit' });
      await b.input<Click>('clicks').pushAll(clicks(12, 3));
      await b.checkpoint();
      expect(await rows(table)).toEqual(lines(clicks(0, 15)));
      // This job's: committed or rolled back; the other job's prepared transaction is not touched.
      expect(await prepared()).toEqual([foreign]);
      await b.close();
      await db.query(`ROLLBACK PREPARED '${foreign}'`);
    } finally {
      await proxy.close();
    }
  });

  it('a handover from A to B (another parallelism): every record in the table once, nothing left prepared', async () => {
    const table = await freshTable();
    const job = pgJob({ mode: 'exactly-once', table, columns: ['user', 'n'], batch: 2 });
    const a = await testJob(job, { parallelism: 2, jobId: 'pg-handover' });
    await a.input<Click>('clicks').pushAll(clicks(0, 9));
    await a.checkpoint();
    // Written by A after its last regular checkpoint: A's stop checkpoint prepares and commits them.
    await a.input<Click>('clicks').pushAll(clicks(9, 4));
    const b = await testJob(job, { parallelism: 3, handover: { from: a } });
    await b.input<Click>('clicks').pushAll(clicks(13, 6));
    await b.checkpoint();
    await a.handle.done;
    expect(a.handle.status).toBe('SUSPENDED');
    expect(await rows(table)).toEqual(lines(clicks(0, 19)));
    expect(await prepared()).toEqual([]);
    await b.close();
  });

  it('fails the job with a typed error when the server has max_prepared_transactions = 0', async () => {
    const off = await startPostgresServer({ maxPreparedTransactions: 0 });
    try {
      const c = new pg.Client({ connectionString: off.connectionString });
      await c.connect();
      await c.query('CREATE TABLE t ("user" text, n int)');
      await c.end();
      const job = pgJob({ mode: 'exactly-once', table: 't', columns: ['user', 'n'], connection: off.connectionString });
      const driver = await testJob(job, { parallelism: 1 });
      const error = await driver.input<Click>('clicks').pushAll(clicks(0, 3)).then(() => driver.finish()).catch((e: unknown) => e);
      expect(String(error)).toContain('BATON_ERR_PG_PREPARED_TRANSACTIONS_DISABLED');
      expect(String(error)).toContain('max_prepared_transactions = 0');
      expect(String(error)).toContain(`127.0.0.1:${off.port}/postgres`);
      expect(String(error)).not.toContain(off.password);
      await driver.close();
    } finally {
      await off.close();
    }
  });
});

describe('Sinks.postgres when the server is out of reach', () => {
  const viaPort = (port: number) => server.connectionString.replace(`:${server.port}/`, `:${port}/`);

  it('a network that drops everything (a partition): the statement fails within timeouts.statementMs, closing does not wait for TCP, nothing is committed twice', async () => {
    const table = await freshTable();
    const proxy = await startTcpHoldProxy(server.port);
    try {
      const job = pgJob({ mode: 'exactly-once', table, columns: ['user', 'n'], connection: viaPort(proxy.port), timeouts: { statementMs: 2_000 } });
      const a = await testJob(job, { parallelism: 1, jobId: 'pg-partition' });
      await a.input<Click>('clicks').pushAll(clicks(0, 4));
      const cp = await a.checkpoint();
      await a.input<Click>('clicks').pushAll(clicks(4, 4));
      const partition = proxy.partition();
      // The INSERT and PREPARE of the next checkpoint get no answer: without a bound they would wait for as long as TCP retries.
      const error = await a.checkpoint().catch((e: unknown) => e);
      expect(String(error)).toContain(`Sinks.postgres (${table}): INSERT failed: Query read timeout`);
      // Both connections are still held: closing ends them at its bound, not when TCP gives up.
      await a.close();
      partition.heal();
      expect(await rows(table)).toEqual(lines(clicks(0, 4)));
      const b = await testJob(job, { parallelism: 1, restoreFrom: cp, jobId: 'pg-partition' });
      await b.finish();
      expect(await rows(table)).toEqual(lines(clicks(0, 8)));
      expect(await prepared()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('the commit’s connection lost (the server restarted, a proxy dropped it): COMMIT PREPARED runs again on a new one, the job goes on', async () => {
    const table = await freshTable();
    const proxy = await startTcpHoldProxy(server.port);
    try {
      const job = pgJob({ mode: 'exactly-once', table, columns: ['user', 'n'], connection: viaPort(proxy.port) });
      const a = await testJob(job, { parallelism: 1, jobId: 'pg-commit-retry' });
      await a.input<Click>('clicks').pushAll(clicks(0, 5));
      const held = proxy.holdNext(/COMMIT PREPARED/);
      // Resolves once the sink committed the checkpoint (its first COMMIT PREPARED never reached the server).
      const checkpoint = a.checkpoint();
      await held;
      proxy.dropHeld();
      await checkpoint;
      expect(await rows(table)).toEqual(lines(clicks(0, 5)));
      await a.input<Click>('clicks').pushAll(clicks(5, 3));
      expect((await a.finish()).status).toBe('FINISHED');
      expect(await rows(table)).toEqual(lines(clicks(0, 8)));
      expect(await prepared()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('a server that refuses connections: the sink tries again with backoff for timeouts.waitForServerMs, then fails with PostgresUnavailableError; a wrong password fails at once', async () => {
    const closedPort = await freePort();
    const refused = pgJob({ mode: 'exactly-once', table: 't', columns: ['user', 'n'], connection: viaPort(closedPort), timeouts: { waitForServerMs: 500 } });
    const a = await testJob(refused, { parallelism: 1 });
    const error = await a.input<Click>('clicks').pushAll(clicks(0, 2)).then(() => a.finish()).catch((e: unknown) => e);
    await a.close();
    const unavailable = causeOf(error, PostgresUnavailableError);
    expect(unavailable, String(error)).toBeDefined();
    expect(unavailable!.code).toBe('BATON_ERR_PG_UNAVAILABLE');
    expect(unavailable!.server).toBe(`127.0.0.1:${closedPort}/postgres`);
    expect(unavailable!.action).toBe('start');
    expect(unavailable!.attempts).toBeGreaterThan(1);
    expect(unavailable!.message).toContain('connect ECONNREFUSED');
    expect(String(error)).not.toContain(server.password);

    const wrongPassword = server.connectionString.replace(server.password, 'not-the-password');
    const denied = pgJob({ mode: 'exactly-once', table: 't', columns: ['user', 'n'], connection: wrongPassword, timeouts: { waitForServerMs: 60_000 } });
    const b = await testJob(denied, { parallelism: 1 });
    const started = Date.now();
    const deniedError = await b.input<Click>('clicks').pushAll(clicks(0, 2)).then(() => b.finish()).catch((e: unknown) => e);
    await b.close();
    expect(causeOf(deniedError, PostgresSinkError)?.sqlState, String(deniedError)).toBe('28P01');
    // Not retried for a minute: a wrong password does not get better.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

/** `error`, or the first error in its chain of causes, that is a `type`. */
function causeOf<E extends Error>(error: unknown, type: abstract new (...args: never[]) => E): E | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e instanceof type) return e;
  return undefined;
}

describe("Sinks.postgres mode 'upsert'", () => {
  it('writes at once with ON CONFLICT: a replay after a crash leaves the table as one run would', async () => {
    const table = await freshTable(true);
    const job = pgJob({ mode: 'upsert', table, columns: ['user', 'n'], key: ['user'], batch: 4 });
    const a = await testJob(job, { parallelism: 2 });
    await a.input<Click>('clicks').pushAll(clicks(0, 6));
    const cp = await a.checkpoint();
    expect(await rows(table)).toEqual(['u0:4', 'u1:5', 'u2:2', 'u3:3']);
    await a.input<Click>('clicks').pushAll(clicks(6, 4));
    await a.crash();
    // Upserts are not transactional per checkpoint: what was flushed before the crash may be visible already.
    const b = await testJob(job, { parallelism: 1, restoreFrom: cp });
    await b.finish();
    // Replayed 6..9 overwrote the same keys: the state of one uninterrupted run over 0..9.
    expect(await rows(table)).toEqual(['u0:8', 'u1:9', 'u2:6', 'u3:7']);
    expect(await prepared()).toEqual([]);
  });

  it('runs a statement of the user per record', async () => {
    const table = await freshTable(true);
    const job = pgJob({
      mode: 'upsert',
      statement: `INSERT INTO ${table} ("user", n) VALUES ($1, $2) ON CONFLICT ("user") DO UPDATE SET n = ${table}.n + EXCLUDED.n`,
      values: (c) => [c.user, c.n],
    });
    const driver = await testJob(job, { parallelism: 1 });
    await driver.input<Click>('clicks').pushAll(clicks(0, 8));
    await driver.finish();
    expect(await rows(table)).toEqual(['u0:4', 'u1:6', 'u2:8', 'u3:10']);
  });
});
