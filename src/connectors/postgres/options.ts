// Options of Sinks.postgres and their checks (a JobConfigError naming the option, before anything starts).
import { JobConfigError, UnknownOptionError } from '../connector-api.ts';

/** A connection: a `postgres://user:password@host:port/database` URL, or its parts (passed to `pg`). */
export type PostgresConnection =
  | string
  | {
      readonly host?: string;
      readonly port?: number;
      readonly user?: string;
      readonly password?: string;
      readonly database?: string;
      /** TLS: `true`, or Node's tls.ConnectionOptions. */
      readonly ssl?: boolean | object;
    };

export interface PostgresSinkOptions<T> {
  readonly connection: PostgresConnection;
  /**
   * `'exactly-once'`: two-phase commit. Each subtask writes a checkpoint's records in one
   * transaction, `PREPARE TRANSACTION` at the checkpoint's barrier, `COMMIT PREPARED` once the
   * checkpoint completed; a restore commits what the restored checkpoint prepared and rolls back
   * the job's other prepared transactions. Needs `max_prepared_transactions > 0` on the server.
   * `'upsert'`: every batch is written at once (autocommit) with `INSERT … ON CONFLICT (key) DO
   * UPDATE`; a replay after a restore writes the same rows again, so the table ends the same as
   * after one run (idempotent), with no prepared transactions.
   */
  readonly mode: 'exactly-once' | 'upsert';
  /** The table written (`name` or `schema.name`), with `columns`. Either `table` or `statement`. */
  readonly table?: string;
  /** With `table`: the columns written, in the order of `values`. */
  readonly columns?: readonly string[];
  /** With `table` in mode `'upsert'`: the conflict target (a unique index or primary key); the other columns are updated. */
  readonly key?: readonly string[];
  /**
   * Instead of `table`: one SQL statement per record with `$1, $2, …` parameters from `values`
   * (e.g. `INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = t.b + EXCLUDED.b`).
   */
  readonly statement?: string;
  /** A record's parameters: in `columns` order (default with `table`: `record[column]` for each column), or `statement`'s `$n`. */
  readonly values?: (record: T) => readonly unknown[];
  /** Rows per INSERT statement with `table` (default 500, fewer when columns × rows would pass 65 535 parameters). */
  readonly batch?: number;
  /** How long the sink waits on the server; see PostgresSinkTimeouts. */
  readonly timeouts?: PostgresSinkTimeouts;
}

/**
 * Bounds on waiting for the server, in ms. Nothing waits longer: a network that drops packets
 * silently would otherwise hold the sink (and the job's checkpoints) for as long as TCP takes to
 * give up, minutes.
 */
export interface PostgresSinkTimeouts {
  /** One connection attempt (default 10 000). */
  readonly connectMs?: number;
  /**
   * One statement (default 60 000). A statement unanswered by then fails the job like a lost
   * connection: its transaction is gone, the restart from the checkpoint writes its records again.
   */
  readonly statementMs?: number;
  /**
   * How long the sink keeps trying to connect, with backoff, while the server is unreachable, shutting
   * down or starting up: when a writer starts, restores and commits (default 60 000; 0: one attempt).
   * A database away for a few seconds then costs the job one restart (the statement the outage cut
   * short fails it), and the restarted job waits in its restore until the database is back, instead of
   * spending every restart attempt on a server that refuses connections. Past it:
   * PostgresUnavailableError.
   */
  readonly waitForServerMs?: number;
}

/** The timeouts with their defaults. */
export function resolvePostgresSinkTimeouts(timeouts: PostgresSinkTimeouts | undefined): Required<PostgresSinkTimeouts> {
  return { connectMs: timeouts?.connectMs ?? 10_000, statementMs: timeouts?.statementMs ?? 60_000, waitForServerMs: timeouts?.waitForServerMs ?? 60_000 };
}

const KNOWN = ['connection', 'mode', 'table', 'columns', 'key', 'statement', 'values', 'batch', 'timeouts'];
const TIMEOUT_KEYS = ['connectMs', 'statementMs', 'waitForServerMs'];
const CONNECTION_KEYS = ['host', 'port', 'user', 'password', 'database', 'ssl'];

function fail(option: string, message: string): never {
  throw new JobConfigError(`Sinks.postgres ${option}`, message);
}

function names(option: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (!Array.isArray(value) || value.length === 0) fail(option, 'must be a non-empty array of column names');
  const seen = new Set<string>();
  value.forEach((name: unknown, i: number) => {
    if (typeof name !== 'string' || name === '' || name.includes('\0')) fail(`${option}[${i}]`, `must be a non-empty column name, got ${JSON.stringify(name)}`);
    if (seen.has(name)) fail(`${option}[${i}]`, `'${name}' is listed twice`);
    seen.add(name);
  });
}

/**
 * Throws a JobConfigError (UnknownOptionError for a misspelt key) naming the first bad option.
 * The connection's password is never part of a message.
 *
 * @example validatePostgresSinkOptions({ connection: 'postgres://app@db/shop', mode: 'upsert', table: 'counts', columns: ['user', 'n'], key: ['user'] });
 */
export function validatePostgresSinkOptions(options: unknown): asserts options is PostgresSinkOptions<unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new JobConfigError('Sinks.postgres options', 'expected an object { connection, mode, table | statement, ... }');
  }
  for (const key of Object.keys(options)) if (!KNOWN.includes(key)) throw new UnknownOptionError(`Sinks.postgres ${key}`, key, KNOWN);
  const o = options as Record<string, unknown>;
  const connection = o.connection;
  if (typeof connection === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(connection);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) fail('connection', "must be a URL 'postgres://user:password@host:port/database' or an object { host, port, user, password, database }");
  } else if (typeof connection === 'object' && connection !== null && !Array.isArray(connection)) {
    for (const key of Object.keys(connection)) if (!CONNECTION_KEYS.includes(key)) throw new UnknownOptionError(`Sinks.postgres connection.${key}`, key, CONNECTION_KEYS);
    const c = connection as Record<string, unknown>;
    for (const key of ['host', 'user', 'password', 'database']) {
      if (c[key] !== undefined && typeof c[key] !== 'string') fail(`connection.${key}`, 'must be a string');
    }
    if (c.port !== undefined && (typeof c.port !== 'number' || !Number.isInteger(c.port) || c.port < 1 || c.port > 65_535)) fail('connection.port', `must be a port number, got ${String(c.port)}`);
  } else {
    fail('connection', 'must be a postgres:// URL or an object { host, port, user, password, database }');
  }
  if (o.mode !== 'exactly-once' && o.mode !== 'upsert') fail('mode', `must be 'exactly-once' or 'upsert', got ${JSON.stringify(o.mode)}`);
  if ((o.table === undefined) === (o.statement === undefined)) fail(o.table === undefined ? 'table' : 'statement', 'give either table (with columns) or statement (with values), not both');
  if (o.table !== undefined) {
    if (typeof o.table !== 'string' || !/^[^.\0]+(\.[^.\0]+)?$/.test(o.table)) fail('table', `must be 'name' or 'schema.name', got ${JSON.stringify(o.table)}`);
    names('columns', o.columns, true);
    names('key', o.key, o.mode === 'upsert');
    const columns = o.columns as string[];
    const key = (o.key as string[] | undefined) ?? [];
    for (const [i, k] of key.entries()) if (!columns.includes(k)) fail(`key[${i}]`, `'${k}' is not one of columns (${columns.join(', ')})`);
    if (o.mode === 'exactly-once' && o.key !== undefined) fail('key', "applies to mode 'upsert' only");
  } else {
    if (typeof o.statement !== 'string' || o.statement.trim() === '') fail('statement', 'must be a non-empty SQL statement');
    if (o.columns !== undefined || o.key !== undefined) fail(o.columns !== undefined ? 'columns' : 'key', 'applies to table only (a statement names its own)');
    if (typeof o.values !== 'function') fail('values', 'is required with statement: a function (record) => parameters');
  }
  if (o.values !== undefined && typeof o.values !== 'function') fail('values', 'must be a function (record) => parameters');
  if (o.batch !== undefined && (typeof o.batch !== 'number' || !Number.isSafeInteger(o.batch) || o.batch < 1)) fail('batch', `must be a positive integer, got ${String(o.batch)}`);
  if (o.timeouts !== undefined) {
    if (typeof o.timeouts !== 'object' || o.timeouts === null || Array.isArray(o.timeouts)) fail('timeouts', 'must be an object { connectMs, statementMs, waitForServerMs }');
    for (const key of Object.keys(o.timeouts)) if (!TIMEOUT_KEYS.includes(key)) throw new UnknownOptionError(`Sinks.postgres timeouts.${key}`, key, TIMEOUT_KEYS);
    const t = o.timeouts as Record<string, unknown>;
    for (const key of TIMEOUT_KEYS) {
      const value = t[key];
      const min = key === 'waitForServerMs' ? 0 : 1;
      if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)) fail(`timeouts.${key}`, `must be an integer ≥ ${min} (ms), got ${String(value)}`);
    }
  }
}
