// The real servers the connector tests run against: each starts on 127.0.0.1 on its own port, works,
// and leaves nothing behind; a missing redis-server fails loudly with the command that installs it.
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { REDIS_INSTALL_COMMAND, RedisServerMissingError, startPostgresServer, startRedisServer } from '../../src/local-servers/index.ts';

describe('startRedisServer', () => {
  it('runs a real redis-server with Streams on a loopback port and removes its directory on close', async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
    expect(existsSync(a.dir)).toBe(true);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const client = new Redis(a.url, { lazyConnect: true });
      await client.connect();
      const id = await client.xadd('s', '*', 'k', 'v');
      expect(await client.xrange('s', '-', '+')).toEqual([[id, ['k', 'v']]]);
      // Servers are separate: b has no stream s.
      const other = new Redis(b.url, { lazyConnect: true });
      await other.connect();
      expect(await other.exists('s')).toBe(0);
      other.disconnect();
      client.disconnect();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    expect(existsSync(a.dir) || existsSync(b.dir)).toBe(false);
  });

  it('fails (does not skip) when the binary is missing, naming the install command', async () => {
    const error = await startRedisServer({ binary: '/nonexistent/redis-server' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisServerMissingError);
    expect((error as Error).message).toContain(REDIS_INSTALL_COMMAND);
    expect((error as RedisServerMissingError).code).toBe('BATON_ERR_REDIS_SERVER_MISSING');
  });
});

describe('startPostgresServer', () => {
  it('runs a real PostgreSQL (even as root) with prepared transactions on, and removes its data directory on close', async () => {
    const server = await startPostgresServer();
    expect(existsSync(server.dir)).toBe(true);
    const client = new pg.Client({ connectionString: server.connectionString });
    try {
      await client.connect();
      expect((await client.query('SHOW max_prepared_transactions')).rows[0].max_prepared_transactions).toBe('20');
      expect((await client.query('SHOW listen_addresses')).rows[0].listen_addresses).toBe('127.0.0.1');
      await client.query('CREATE TABLE t (x int)');
      await client.query('BEGIN');
      await client.query('INSERT INTO t VALUES (1)');
      await client.query("PREPARE TRANSACTION 'servers-test'");
      // Prepared, not visible yet.
      expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
      await client.query("COMMIT PREPARED 'servers-test'");
      expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(1);
    } finally {
      await client.end();
      await server.close();
    }
    expect(existsSync(server.dir)).toBe(false);
  });

  it('refuses a wrong password: authentication is on', async () => {
    const server = await startPostgresServer({ maxPreparedTransactions: 0 });
    try {
      const wrong = new pg.Client({ connectionString: server.connectionString.replace(server.password, 'wrong') });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
      const client = new pg.Client({ connectionString: server.connectionString });
      await client.connect();
      expect((await client.query('SHOW max_prepared_transactions')).rows[0].max_prepared_transactions).toBe('0');
      await client.end();
    } finally {
      await server.close();
    }
  });
});
