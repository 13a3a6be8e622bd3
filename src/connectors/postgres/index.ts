// Sinks.postgres: the public face of the PostgreSQL sink.
export { describeConnection, PostgresPreparedTransactionsDisabledError, PostgresSinkError } from './errors.ts';
export type { PostgresConnection, PostgresSinkOptions } from './options.ts';
export { postgres } from './sink.ts';
export { type PostgresSinkState, postgresSinkStateProblem } from './state.ts';
export { jobTransactionKey, parseTransactionId, transactionId } from './transaction-ids.ts';
