// Throw-away local servers (a real redis-server, a real PostgreSQL) on 127.0.0.1: what the connector tests,
// the connectors bench and `baton demo redis-postgres` run against. Not part of the package's API.
export { freePort } from './free-port.ts';
export { POSTGRES_INSTALL_COMMAND, type PostgresServerHandle, PostgresServerMissingError, type PostgresServerOptions, startPostgresServer } from './postgres-server.ts';
export { checkRedisServerBinary, REDIS_INSTALL_COMMAND, type RedisServerHandle, RedisServerMissingError, type RedisServerOptions, startRedisServer } from './redis-server.ts';
