// The real redis-server of the connector tests; it lives in src/local-servers (the demo and the bench start it too).
export { checkRedisServerBinary, REDIS_INSTALL_COMMAND, type RedisServerHandle, RedisServerMissingError, type RedisServerOptions, startRedisServer } from '../../src/local-servers/index.ts';
