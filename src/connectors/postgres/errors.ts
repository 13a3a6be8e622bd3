// Typed errors of the PostgreSQL sink; `code` is stable. Messages never carry the connection's password.
import { BatonError, registerErrors } from '../connector-api.ts';

/**
 * Mode `'exactly-once'` needs prepared transactions, and the server has `max_prepared_transactions = 0`
 * (PostgreSQL's default). Set it in postgresql.conf (or `-c max_prepared_transactions=N`) to at least
 * twice the sink's parallelism, restart the server; or use mode `'upsert'`.
 *
 * @example
 * ```ts
 * if (error.message.includes('BATON_ERR_PG_PREPARED_TRANSACTIONS_DISABLED')) console.error('enable max_prepared_transactions');
 * ```
 */
export class PostgresPreparedTransactionsDisabledError extends BatonError {
  static override readonly code: string = 'BATON_ERR_PG_PREPARED_TRANSACTIONS_DISABLED';
  override name = 'PostgresPreparedTransactionsDisabledError';
  constructor(readonly server: string) {
    super(
      `BATON_ERR_PG_PREPARED_TRANSACTIONS_DISABLED: Sinks.postgres mode 'exactly-once' needs prepared transactions, and ${server} has max_prepared_transactions = 0 (PostgreSQL's default). Set max_prepared_transactions to at least twice the sink's parallelism (postgresql.conf, or -c max_prepared_transactions=N) and restart the server, or use mode 'upsert'.`,
    );
  }
}

/**
 * A statement of the sink failed (server gone, constraint violated, wrong column, …). `sqlState` is
 * PostgreSQL's error code when the server answered (e.g. `23505` unique violation); the driver's
 * error is the `cause`. The job fails and, under a restart strategy, restarts from its checkpoint.
 *
 * @example
 * ```ts
 * if (error instanceof PostgresSinkError && error.sqlState === '23505') console.error('duplicate key in', error.target);
 * ```
 */
export class PostgresSinkError extends BatonError {
  static override readonly code: string = 'BATON_ERR_PG_SINK';
  override name = 'PostgresSinkError';
  /** PostgreSQL's SQLSTATE, when the server reported the error. */
  readonly sqlState: string | undefined;
  constructor(
    /** The table, or `statement`, the sink writes. */
    readonly target: string,
    readonly action: string,
    cause: unknown,
  ) {
    const sqlState = sqlStateOf(cause);
    super(`Sinks.postgres (${target}): ${action} failed: ${cause instanceof Error ? cause.message : String(cause)}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`, { cause });
    this.sqlState = sqlState;
  }
}

/**
 * The sink could not reach the server for `waitedMs` (connection refused, reset, timed out, or the
 * server shutting down or starting up), retrying with backoff all along (`timeouts.waitForServerMs`).
 * The job fails and, under a restart strategy, restarts from its checkpoint: nothing is lost, the
 * prepared transactions wait on the server for the restore.
 *
 * @example
 * if (error instanceof PostgresUnavailableError) console.error(`${error.server} away for ${error.waitedMs} ms`);
 */
export class PostgresUnavailableError extends BatonError {
  static override readonly code: string = 'BATON_ERR_PG_UNAVAILABLE';
  override name = 'PostgresUnavailableError';
  constructor(
    /** `host:port/database`. */
    readonly server: string,
    /** What the sink was connecting for (e.g. `restore`, `commit`). */
    readonly action: string,
    readonly attempts: number,
    readonly waitedMs: number,
    cause: unknown,
  ) {
    super(
      `BATON_ERR_PG_UNAVAILABLE: Sinks.postgres could not reach ${server} (${action}): ${attempts} attempt(s) over ${waitedMs} ms, the last: ${cause instanceof Error ? cause.message : String(cause)}. Raise timeouts.waitForServerMs to wait longer.`,
      { cause },
    );
  }
}

/** PostgreSQL's SQLSTATE (five characters) of a driver error; undefined for a network error (whose `code` is e.g. ECONNREFUSED). */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EPIPE', 'EAI_AGAIN']);

/**
 * Whether `error` says the server is (for now) out of reach, rather than that a statement or the
 * login is wrong: a network error, pg's connect timeout or lost connection, or SQLSTATE class 08
 * (connection exception), 57P01-57P03 (shutting down, crashed, starting up), 53300 (too many
 * connections). Retrying helps with these; not with a wrong password or a missing table.
 *
 * @example serverUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) // true
 */
export function serverUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const state = sqlStateOf(error);
  if (state !== undefined) return state.startsWith('08') || /^57P0[123]$/.test(state) || state === '53300';
  const message = error instanceof Error ? error.message : '';
  return /^(timeout expired|Connection terminated( unexpectedly)?|Query read timeout)$|not queryable/.test(message);
}

/**
 * Where a connection goes, for messages: `host:port/database`, never the user's password.
 *
 * @example describeConnection('postgres://app:s3cret@db:5432/shop') // 'db:5432/shop'
 */
export function describeConnection(connection: string | { readonly host?: string; readonly port?: number; readonly database?: string }): string {
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      return `${url.hostname}:${url.port || 5432}${url.pathname === '/' ? '' : decodeURIComponent(url.pathname)}`;
    } catch {
      return 'PostgreSQL';
    }
  }
  return `${connection.host ?? 'localhost'}:${connection.port ?? 5432}/${connection.database ?? ''}`;
}

registerErrors(PostgresPreparedTransactionsDisabledError, PostgresSinkError, PostgresUnavailableError);
