// Options of Sources.redisStreams and their checks (a JobConfigError naming the option, before anything starts).
import { JobConfigError, UnknownOptionError } from '../connector-api.ts';
import { isStreamId } from './stream-id.ts';

/** Where a stream is read from when the job starts without a checkpoint (a restore resumes from the checkpoint). */
export type RedisStreamsStart =
  /** Every entry the stream holds. */
  | 'earliest'
  /** Only entries added after the reader first opens the stream. */
  | 'latest'
  /** Entries with an ID greater than this one (XREAD's semantics), e.g. a position saved elsewhere. */
  | { readonly afterId: string }
  /** Entries whose ID time (the ms part) is at or after this epoch-ms time. */
  | { readonly fromTimestampMs: number };

export interface RedisStreamsSourceOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). The password never appears in errors. */
  readonly url: string;
  /**
   * The stream keys to read; each is one split, dealt to the source's subtasks round-robin (a
   * sharded stream: `Array.from({ length: 8 }, (_, i) => \`events:{${i}}\`)`).
   */
  readonly streams: readonly string[];
  readonly start: RedisStreamsStart;
  /**
   * `'unbounded'` (default): read on forever, waiting for new entries (blocking XREAD).
   * `'bounded'`: read up to the last entry each stream holds when the reader first opens it, then
   * end (that last ID is stored with the split, so a restore ends at the same entry).
   */
  readonly end?: 'bounded' | 'unbounded';
  /**
   * Event time of each record, and watermarks from the source (per stream, combined by the runtime):
   * `'entry-id'`: the ms part of the entry ID (when Redis assigned it: `XADD key * …`); the watermark
   * follows the last ID read, exactly, since a stream's IDs only grow.
   * `{ field }`: that field, as epoch ms or a date string; the watermark trails the highest time
   * read by `maxOutOfOrdernessMs`.
   * Absent: records carry no timestamp and the source emits no watermarks.
   */
  readonly eventTime?: 'entry-id' | { readonly field: string };
  /** With `{ field }` event time: how far out of order times within one stream may be (default 0). */
  readonly maxOutOfOrdernessMs?: number;
  /**
   * A stream with no new entry for this long stops holding the watermark back: its watermark
   * advances with the Redis server's clock (less `maxOutOfOrdernessMs`). Exact for `'entry-id'`
   * time with IDs Redis assigned; with `{ field }` it assumes producers stamp times close to that
   * clock. Unset (default): an idle stream holds the watermark where it is.
   */
  readonly idleMs?: number;
  /** Entries fetched per command (COUNT); default 1000. */
  readonly batch?: number;
  /** Longest one blocking read waits on the server before it is reissued (BLOCK, ms); default 1000. */
  readonly blockMs?: number;
}

const KNOWN = ['url', 'streams', 'start', 'end', 'eventTime', 'maxOutOfOrdernessMs', 'idleMs', 'batch', 'blockMs'];

function fail(option: string, message: string): never {
  throw new JobConfigError(`Sources.redisStreams ${option}`, message);
}

function checkStart(start: unknown): void {
  if (start === 'earliest' || start === 'latest') return;
  if (typeof start === 'object' && start !== null && !Array.isArray(start)) {
    const keys = Object.keys(start);
    if (keys.length === 1 && keys[0] === 'afterId') {
      const id = (start as { afterId: unknown }).afterId;
      if (isStreamId(id)) return;
      fail('start.afterId', `must be an entry ID '<ms>-<seq>', got ${JSON.stringify(id)}`);
    }
    if (keys.length === 1 && keys[0] === 'fromTimestampMs') {
      const ms = (start as { fromTimestampMs: unknown }).fromTimestampMs;
      if (typeof ms === 'number' && Number.isSafeInteger(ms) && ms >= 0) return;
      fail('start.fromTimestampMs', `must be a non-negative integer (epoch ms), got ${String(ms)}`);
    }
  }
  fail('start', `must be 'earliest', 'latest', { afterId } or { fromTimestampMs }, got ${JSON.stringify(start)}`);
}

function positiveInteger(option: string, value: unknown, allowZero = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    fail(option, `must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
}

/**
 * Throws a JobConfigError (UnknownOptionError for a misspelt key) naming the first bad option.
 *
 * @example validateRedisStreamsOptions({ url: 'redis://127.0.0.1:6379', streams: ['events'], start: 'earliest' });
 */
export function validateRedisStreamsOptions(options: unknown): asserts options is RedisStreamsSourceOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new JobConfigError('Sources.redisStreams options', 'expected an object { url, streams, start, ... }');
  }
  for (const key of Object.keys(options)) if (!KNOWN.includes(key)) throw new UnknownOptionError(`Sources.redisStreams ${key}`, key, KNOWN);
  const o = options as Record<string, unknown>;
  let url: URL | undefined;
  try {
    url = typeof o.url === 'string' ? new URL(o.url) : undefined;
  } catch {
    url = undefined;
  }
  // The value is not echoed: it may hold a password.
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    fail('url', "must be a URL 'redis://host[:port][/db]' or 'rediss://…'");
  }
  const streams = o.streams;
  if (!Array.isArray(streams) || streams.length === 0) fail('streams', 'must be a non-empty array of stream keys');
  const seen = new Set<string>();
  streams.forEach((key: unknown, i: number) => {
    if (typeof key !== 'string' || key === '') fail(`streams[${i}]`, `must be a non-empty string, got ${JSON.stringify(key)}`);
    if (seen.has(key)) fail(`streams[${i}]`, `'${key}' is listed twice`);
    seen.add(key);
  });
  checkStart(o.start);
  if (o.end !== undefined && o.end !== 'bounded' && o.end !== 'unbounded') fail('end', `must be 'bounded' or 'unbounded', got ${JSON.stringify(o.end)}`);
  const eventTime = o.eventTime;
  if (eventTime !== undefined && eventTime !== 'entry-id') {
    const field = typeof eventTime === 'object' && eventTime !== null ? (eventTime as { field?: unknown }).field : undefined;
    if (typeof field !== 'string' || field === '' || Object.keys(eventTime as object).length !== 1) {
      fail('eventTime', `must be 'entry-id' or { field: '<name>' }, got ${JSON.stringify(eventTime)}`);
    }
  }
  positiveInteger('maxOutOfOrdernessMs', o.maxOutOfOrdernessMs, true);
  if (o.maxOutOfOrdernessMs !== undefined && (eventTime === undefined || eventTime === 'entry-id')) {
    fail('maxOutOfOrdernessMs', "applies to eventTime { field } only ('entry-id' times are in order)");
  }
  positiveInteger('idleMs', o.idleMs);
  if (o.idleMs !== undefined && eventTime === undefined) fail('idleMs', 'needs eventTime: without it the source emits no watermarks');
  positiveInteger('batch', o.batch);
  positiveInteger('blockMs', o.blockMs);
}
