// Sinks.postgres: the public face of the PostgreSQL sink.
export { describeConnection, PostgresPreparedTransactionsDisabledError, PostgresSinkError, PostgresUnavailableError, serverUnavailable, sqlStateOf } from './errors.ts';
export type { PostgresConnection, PostgresSinkOptions, PostgresSinkTimeouts } from './options.ts';
export { postgres } from './sink.ts';
export { type PostgresSinkState, postgresSinkStateProblem } from './state.ts';
export { jobTransactionKey, parseTransactionId, transactionId } from './transaction-ids.ts';
