// Throw-away local servers (a real redis-server, a real PostgreSQL) on 127.0.0.1: what the connector tests,
// the connectors bench and `baton demo redis-postgres` run against. Not part of the package's API.
export { LocalServerError, POSTGRES_INSTALL_COMMAND, PostgresServerMissingError, REDIS_INSTALL_COMMAND, RedisServerMissingError } from './errors.ts';
export { freePort } from './free-port.ts';
export { type PostgresServerHandle, type PostgresServerOptions, startPostgresServer } from './postgres-server.ts';
export { checkRedisServerBinary, type RedisServerHandle, type RedisServerOptions, startRedisServer } from './redis-server.ts';
