// Typed errors of the Redis Streams source; `code` is stable.
import { BatonError, registerErrors } from '../connector-api.ts';

/**
 * An entry's event time could not be read: the configured field is missing, or holds neither a
 * number (epoch ms) nor a date Date.parse understands, or an entry-ID time is beyond 2^53. The job
 * fails on it (and restarts from its checkpoint under a restart strategy), naming the entry.
 *
 * @example
 * ```ts
 * job.done.catch((e) => { if (e.cause instanceof RedisStreamsEventTimeError) console.error(e.cause.stream, e.cause.entryId); });
 * ```
 */
export class RedisStreamsEventTimeError extends BatonError {
  static override readonly code: string = 'BATON_ERR_REDIS_EVENT_TIME';
  override name = 'RedisStreamsEventTimeError';
  constructor(
    readonly stream: string,
    readonly entryId: string,
    detail: string,
  ) {
    super(`Sources.redisStreams: no event time for entry ${entryId} of stream '${stream}': ${detail}`);
  }
}

/**
 * A Redis command of the source failed (server unreachable, wrong type of key, …). The URL in the
 * message has its password replaced by `***`; the client's error is the `cause`.
 *
 * @example
 * ```ts
 * if (error instanceof RedisStreamsReadError) console.error(error.stream, error.url);
 * ```
 */
export class RedisStreamsReadError extends BatonError {
  static override readonly code: string = 'BATON_ERR_REDIS_READ';
  override name = 'RedisStreamsReadError';
  constructor(
    readonly stream: string,
    /** The source's URL, password redacted. */
    readonly url: string,
    cause: unknown,
  ) {
    super(`Sources.redisStreams: reading stream '${stream}' from ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * A Redis URL with its password (and a user name given alone, which Redis ACLs treat as a password)
 * replaced by `***`, for messages and logs.
 *
 * @example redactRedisUrl('redis://app:s3cret@10.0.0.5:6379/0') // 'redis://app:***@10.0.0.5:6379/0'
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    else if (parsed.username !== '') parsed.username = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

registerErrors(RedisStreamsEventTimeError, RedisStreamsReadError);
