// The real PostgreSQL of the connector tests; it lives in src/local-servers (the demo and the bench start it too).
export { type PostgresServerHandle, PostgresServerMissingError, type PostgresServerOptions, startPostgresServer } from '../../src/local-servers/index.ts';
