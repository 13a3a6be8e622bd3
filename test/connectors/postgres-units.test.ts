// Sinks.postgres without a server: options, transaction ids, SQL text, and state read back from a checkpoint (hostile input).
import { describe, expect, it } from 'vitest';
import { describeConnection, jobTransactionKey, parseTransactionId, PostgresSinkError, postgresSinkStateProblem, serverUnavailable, sqlStateOf, transactionId } from '../../src/connectors/postgres/index.ts';
import { InsertStatements, lastPerKey, quoteTable } from '../../src/connectors/postgres/sql.ts';
import { JobConfigError, Sinks, UnknownOptionError } from '../../src/index.ts';

describe('options', () => {
  const valid = { connection: 'postgres://app:hunter2@127.0.0.1:5432/shop', mode: 'exactly-once', table: 'clicks', columns: ['user', 'n'] } as const;
  const problem = (options: unknown) => {
    try {
      Sinks.postgres(options as never).validate();
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(JobConfigError);
      return error as JobConfigError;
    }
  };

  it('accepts the documented shapes', () => {
    expect(problem(valid)).toBeUndefined();
    expect(problem({ ...valid, mode: 'upsert', key: ['user'], batch: 10 })).toBeUndefined();
    expect(problem({ connection: { host: '127.0.0.1', port: 5432, user: 'app', password: 'x', database: 'shop' }, mode: 'upsert', statement: 'INSERT INTO t VALUES ($1)', values: () => [1] })).toBeUndefined();
  });

  it('names the option at fault, and never echoes the password', () => {
    expect(problem({ ...valid, connection: 'mysql://app:hunter2@h/db' })?.option).toBe('Sinks.postgres connection');
    expect(problem({ ...valid, connection: 'mysql://app:hunter2@h/db' })?.message).not.toContain('hunter2');
    expect(problem({ ...valid, connection: { host: 'h', port: 0 } })?.option).toBe('Sinks.postgres connection.port');
    expect(problem({ ...valid, mode: 'at-least-once' })?.option).toBe('Sinks.postgres mode');
    expect(problem({ ...valid, statement: 'INSERT …', values: () => [] })?.option).toBe('Sinks.postgres statement');
    expect(problem({ ...valid, table: 'a.b.c' })?.option).toBe('Sinks.postgres table');
    expect(problem({ ...valid, columns: [] })?.option).toBe('Sinks.postgres columns');
    expect(problem({ ...valid, mode: 'upsert' })?.option).toBe('Sinks.postgres key');
    expect(problem({ ...valid, mode: 'upsert', key: ['id'] })?.option).toBe('Sinks.postgres key[0]');
    expect(problem({ ...valid, key: ['user'] })?.option).toBe('Sinks.postgres key');
    expect(problem({ connection: valid.connection, mode: 'upsert', statement: 'INSERT INTO t VALUES ($1)' })?.option).toBe('Sinks.postgres values');
    const typo = problem({ ...valid, colums: ['a'] });
    expect(typo).toBeInstanceOf(UnknownOptionError);
    expect((typo as UnknownOptionError).suggestion).toBe('columns');
    expect(describeConnection(valid.connection)).toBe('127.0.0.1:5432/shop');
  });

  it('checks timeouts', () => {
    expect(problem({ ...valid, timeouts: { connectMs: 500, statementMs: 1_000, waitForServerMs: 0 } })).toBeUndefined();
    expect(problem({ ...valid, timeouts: { statementMs: 0 } })?.option).toBe('Sinks.postgres timeouts.statementMs');
    expect(problem({ ...valid, timeouts: { waitForServerMs: -1 } })?.option).toBe('Sinks.postgres timeouts.waitForServerMs');
    expect(problem({ ...valid, timeouts: 5 })?.option).toBe('Sinks.postgres timeouts');
    const typo = problem({ ...valid, timeouts: { statmentMs: 5 } });
    expect(typo).toBeInstanceOf(UnknownOptionError);
    expect((typo as UnknownOptionError).suggestion).toBe('statementMs');
  });
});

describe('errors', () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  it('tell a server out of reach (worth waiting for) from a statement or login that is wrong', () => {
    for (const error of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      withCode('sorry, too many clients already', '53300'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout expired'),
      new Error('Query read timeout'),
      new Error('Client has encountered a connection error and is not queryable'),
    ]) {
      expect(serverUnavailable(error), error.message).toBe(true);
    }
    for (const error of [
      withCode('password authentication failed for user "app"', '28P01'),
      withCode('database "shop" does not exist', '3D000'),
      withCode('relation "t" does not exist', '42P01'),
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'),
      new Error('something else'),
      'not an error',
    ]) {
      expect(serverUnavailable(error), String(error)).toBe(false);
    }
  });

  it('carry a SQLSTATE only when the server sent one (a network error code is not one)', () => {
    expect(sqlStateOf(withCode('x', '23505'))).toBe('23505');
    expect(sqlStateOf(withCode('connect ECONNREFUSED', 'ECONNREFUSED'))).toBeUndefined();
    const refused = new PostgresSinkError('t', 'connecting', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'));
    expect(refused.sqlState).toBeUndefined();
    expect(refused.message).toBe('Sinks.postgres (t): connecting failed: connect ECONNREFUSED 127.0.0.1:5432');
  });
});

describe('transaction ids', () => {
  it('derive from job and sink (hashed), subtask, checkpoint and writer, and parse back', () => {
    const key = jobTransactionKey('orders', 'pg');
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(jobTransactionKey('orders', 'pg')).toBe(key);
    expect(jobTransactionKey('orders', 'pg2')).not.toBe(key);
    // A job id and uid that would collide if simply joined do not.
    expect(jobTransactionKey('a-b', 'c')).not.toBe(jobTransactionKey('a', 'b-c'));
    const gid = transactionId(key, 3, 41, 'a3f09c1e');
    expect(gid.length).toBeLessThan(200);
    expect(parseTransactionId(gid)).toEqual({ jobKey: key, subtask: 3, checkpointId: 41, writerId: 'a3f09c1e' });
    for (const bad of ["baton-0123456789abcdef-0-1-a3f09c1e'; DROP TABLE t; --", 'baton-0123456789ABCDEF-0-1-a3f09c1e', 'baton-0123456789abcdef-01-1-a3f09c1e', 'x', 7]) {
      expect(parseTransactionId(bad)).toBeUndefined();
    }
  });
});

describe('state read back from a checkpoint', () => {
  const key = jobTransactionKey('orders', 'pg');
  const state = { subtaskIndex: 1, staged: [{ checkpointId: 4, gid: transactionId(key, 1, 4, 'a3f09c1e') }] };

  it('accepts what the sink writes (and nothing, for upsert)', () => {
    expect(postgresSinkStateProblem(state)).toBeUndefined();
    expect(postgresSinkStateProblem(state, key)).toBeUndefined();
    expect(postgresSinkStateProblem(undefined)).toBeUndefined();
  });

  it('refuses ids that are not the sink’s own pattern, of another job, or of another checkpoint', () => {
    const withGid = (gid: unknown, checkpointId = 4) => ({ ...state, staged: [{ checkpointId, gid }] });
    expect(postgresSinkStateProblem(withGid("x'; COMMIT PREPARED 'victim"))?.field).toBe('.staged[0].gid');
    expect(postgresSinkStateProblem(withGid(transactionId(jobTransactionKey('other', 'pg'), 1, 4, 'a3f09c1e')), key)?.field).toBe('.staged[0].gid');
    expect(postgresSinkStateProblem(withGid(state.staged[0].gid, 5))?.expected).toContain('checkpoint 5');
    expect(postgresSinkStateProblem({ ...state, subtaskIndex: -1 })?.field).toBe('.subtaskIndex');
    expect(postgresSinkStateProblem({ ...state, staged: 'all' })?.field).toBe('.staged');
    expect(postgresSinkStateProblem([])?.field).toBe('');
  });
});

describe('SQL text', () => {
  it('quotes every identifier, batches rows, and upserts on the key', () => {
    expect(quoteTable('shop.order "items"')).toBe('"shop"."order ""items"""');
    const insert = new InsertStatements('t', ['user', 'n'], undefined);
    expect(insert.text(2)).toBe('INSERT INTO "t" ("user", "n") VALUES ($1, $2), ($3, $4)');
    const upsert = new InsertStatements('t', ['user', 'n'], ['user']);
    expect(upsert.text(1)).toBe('INSERT INTO "t" ("user", "n") VALUES ($1, $2) ON CONFLICT ("user") DO UPDATE SET "n" = EXCLUDED."n"');
    expect(new InsertStatements('t', ['user'], ['user']).text(1)).toBe('INSERT INTO "t" ("user") VALUES ($1) ON CONFLICT ("user") DO NOTHING');
    // 65 535 parameters at most per statement.
    expect(new InsertStatements('t', ['a', 'b', 'c'], undefined).maxRows(100_000)).toBe(21_845);
  });

  it('keeps the last row of each key in one upsert statement', () => {
    expect(lastPerKey([['a', 1], ['b', 2], ['a', 3]], [0])).toEqual([['b', 2], ['a', 3]]);
    expect(lastPerKey([[1n, 'x'], [1n, 'y']], [0])).toEqual([[1n, 'y']]);
  });
});
