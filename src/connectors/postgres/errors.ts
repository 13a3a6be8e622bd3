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
    const sqlState = !(cause instanceof BatonError) && typeof (cause as { code?: unknown })?.code === 'string' ? ((cause as { code: string }).code as string) : undefined;
    super(`Sinks.postgres (${target}): ${action} failed: ${cause instanceof Error ? cause.message : String(cause)}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`, { cause });
    this.sqlState = sqlState;
  }
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

registerErrors(PostgresPreparedTransactionsDisabledError, PostgresSinkError);
