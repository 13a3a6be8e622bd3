// Sinks.postgres: rows into a PostgreSQL table, exactly once by two-phase commit per checkpoint, or as idempotent upserts.
import { isMainThread } from 'node:worker_threads';
import { JobConfigError, type Sink, type SinkContext, type SinkWriter } from '../connector-api.ts';
import { describeConnection } from './errors.ts';
import { type PostgresSinkOptions, resolvePostgresSinkTimeouts, validatePostgresSinkOptions } from './options.ts';
import { InsertStatements } from './sql.ts';
import { postgresSinkStateProblem } from './state.ts';
import { jobTransactionKey } from './transaction-ids.ts';
import { PostgresSinkWriter } from './writer.ts';

const DEFAULT_BATCH = 500;

/**
 * Writes each record as a row of a PostgreSQL table (through `pg`).
 *
 * Mode `'exactly-once'`: two-phase commit, like Flink's exactly-once JDBC sink with XA. Each
 * subtask writes a checkpoint's rows in one transaction and prepares it at the checkpoint's
 * barrier (`PREPARE TRANSACTION 'baton-<job>-<subtask>-<checkpoint>-<writer>'`); the checkpoint
 * completes only once every subtask's transaction is prepared, and then each is committed
 * (`COMMIT PREPARED`). A restore (after a crash, or a handover's B) commits the transactions the
 * restored checkpoint prepared and rolls back the job's later ones, whose rows are read again:
 * readers of the table see every record exactly once. Needs `max_prepared_transactions` > 0 on
 * the server (PostgresPreparedTransactionsDisabledError otherwise).
 *
 * Mode `'upsert'`: rows are written as they come (a batch per statement, autocommit) with
 * `ON CONFLICT (key) DO UPDATE`; a replay after a restore overwrites the same rows, so the table
 * ends as after one uninterrupted run, without prepared transactions (rows become visible before
 * their checkpoint completes, and may be overwritten by the replay).
 *
 * When the server goes away: the statement it cuts short fails the job (PostgresSinkError; its
 * transaction is gone, a restart from the checkpoint writes its records again), and the restarted
 * job's restore waits for the server, trying again with backoff for `timeouts.waitForServerMs`
 * (PostgresUnavailableError past it). A COMMIT PREPARED whose connection was lost runs again on a
 * new one. No wait is unbounded (`timeouts`): a silent network fails a statement, it does not hang.
 *
 * @example
 * ```ts
 * counts.sinkTo(Sinks.postgres<{ user: string; n: number }>({
 *   connection: 'postgres://app:secret@127.0.0.1:5432/shop',
 *   mode: 'exactly-once',
 *   table: 'clicks',
 *   columns: ['user', 'n'],
 * })).uid('clicks-pg');
 * ```
 */
export function postgres<T>(options: PostgresSinkOptions<T>): Sink<T> {
  // Worker threads build the job's graph while they start: loading the driver now keeps it out of
  // the first write (and out of a handover's downtime). The coordinator's thread never writes.
  if (!isMainThread) void import('pg').catch(() => undefined);
  return {
    kind: 'postgres',
    validate(): void {
      validatePostgresSinkOptions(options);
    },
    createWriter(ctx: SinkContext): SinkWriter<T> {
      const { connection, mode, table, columns, key, statement } = options;
      if (mode === 'exactly-once' && ctx.jobId === undefined) throw new JobConfigError('Sinks.postgres mode', "'exactly-once' needs the job's id from the runtime (SinkContext.jobId)");
      const values = options.values ?? ((record: T) => columns!.map((c) => (record as Record<string, unknown>)[c]));
      const insert = table === undefined ? undefined : new InsertStatements(table, columns!, mode === 'upsert' ? key : undefined);
      return new PostgresSinkWriter<T>(
        {
          connection,
          server: describeConnection(connection),
          target: table ?? 'statement',
          mode,
          insert,
          statement,
          values,
          batch: insert ? insert.maxRows(options.batch ?? DEFAULT_BATCH) : (options.batch ?? DEFAULT_BATCH),
          keyIndexes: table !== undefined && mode === 'upsert' ? key!.map((k) => columns!.indexOf(k)) : undefined,
          jobKey: mode === 'exactly-once' ? jobTransactionKey(ctx.jobId!, ctx.uid) : undefined,
          timeouts: resolvePostgresSinkTimeouts(options.timeouts),
        },
        ctx,
      );
    },
    checkRestoredState: (state: unknown) => postgresSinkStateProblem(state),
  };
}
