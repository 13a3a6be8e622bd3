// Sources.redisStreams: each configured stream key is a split; its position (the last entry ID read) lives in checkpoints.
import { isMainThread } from 'node:worker_threads';
import { HostileCheckpointError, type Source, type SourceReader, type SourceReaderContext, type SourceSplit, type StoredValueProblem } from '../connector-api.ts';
import { redactRedisUrl } from './errors.ts';
import { validateRedisStreamsOptions, type RedisStreamsSourceOptions, type RedisStreamsStart } from './options.ts';
import { LATEST, RedisStreamReader, type RedisStreamEntry, type RedisStreamSplit } from './reader.ts';
import { isStreamId, MIN_STREAM_ID, positionBeforeMs } from './stream-id.ts';

const DEFAULT_BATCH = 1000;
const DEFAULT_BLOCK_MS = 1000;

/** The split id of a stream key. @example redisStreamSplitId('events:{0}') // 'redis-stream:events:{0}' */
export function redisStreamSplitId(stream: string): string {
  return `redis-stream:${stream}`;
}

function startPosition(start: RedisStreamsStart): string {
  if (start === 'earliest') return MIN_STREAM_ID;
  if (start === 'latest') return LATEST;
  return 'afterId' in start ? start.afterId : positionBeforeMs(start.fromTimestampMs);
}

function check(field: string, ok: boolean, expected: string, value: unknown): StoredValueProblem | undefined {
  return ok ? undefined : { field, expected, value };
}

/**
 * The first way `split` (read back from a checkpoint: hostile input) is not a split this source
 * writes for one of the `streams` it was configured with, or undefined. IDs must be entry IDs as
 * Redis writes them before they reach a command.
 *
 * @example redisStreamSplitProblem({ id: 'redis-stream:other', stream: 'other', offset: '1-0' }, ['events'])?.field // '.stream'
 */
export function redisStreamSplitProblem(split: unknown, streams: readonly string[]): StoredValueProblem | undefined {
  if (typeof split !== 'object' || split === null || Array.isArray(split)) return check('', false, 'a Redis stream split { id, stream, offset, end? }', split);
  const s = split as Record<string, unknown>;
  const shown = streams.length <= 5 ? streams.join(', ') : `${streams.slice(0, 5).join(', ')}, … (${streams.length})`;
  return (
    check('.stream', typeof s.stream === 'string' && streams.includes(s.stream), `a stream this job reads (${shown})`, s.stream) ??
    check('.id', s.id === redisStreamSplitId(s.stream as string), `'${redisStreamSplitId(s.stream as string)}'`, s.id) ??
    check('.offset', s.offset === LATEST || isStreamId(s.offset), "an entry ID '<ms>-<seq>' (or '$')", s.offset) ??
    check('.end', s.end === undefined || isStreamId(s.end), "an entry ID '<ms>-<seq>', or nothing", s.end)
  );
}

class RedisStreamsSource implements Source<RedisStreamEntry> {
  readonly kind = 'redis-streams';

  constructor(private readonly options: RedisStreamsSourceOptions) {}

  validate(): void {
    validateRedisStreamsOptions(this.options);
  }

  createSplits(_parallelism: number): RedisStreamSplit[] {
    const offset = startPosition(this.options.start);
    return this.options.streams.map((stream) => ({ id: redisStreamSplitId(stream), stream, offset }));
  }

  checkRestoredSplit(split: unknown): StoredValueProblem | undefined {
    return redisStreamSplitProblem(split, this.options.streams);
  }

  createReader(split: SourceSplit, ctx: SourceReaderContext): SourceReader<RedisStreamEntry> {
    // Restored splits were checked by the coordinator; this guards every other way in.
    const problem = redisStreamSplitProblem(split, this.options.streams);
    if (problem !== undefined) throw new HostileCheckpointError(`split '${String(split.id)}' of Sources.redisStreams`, undefined, `split${problem.field}`, problem.value, problem.expected);
    const o = this.options;
    return new RedisStreamReader(split as RedisStreamSplit, {
      url: o.url,
      shownUrl: redactRedisUrl(o.url),
      bounded: o.end === 'bounded',
      eventTime: o.eventTime,
      maxOutOfOrdernessMs: o.maxOutOfOrdernessMs ?? 0,
      idleMs: o.idleMs,
      batch: o.batch ?? DEFAULT_BATCH,
      blockMs: o.blockMs ?? DEFAULT_BLOCK_MS,
      connectionName: `baton:${ctx.uid}:${ctx.subtaskIndex}`.replace(/[^A-Za-z0-9:._-]/g, '_'),
    });
  }
}

/**
 * Entries of Redis streams, exactly once: each stream key is a split (dealt to the source's
 * subtasks round-robin, and dealt again on a restore at another parallelism); its position, the
 * last entry ID read, is stored in each checkpoint, and a restore or a handover reads on right
 * after it. No consumer group is used: positions live in the checkpoint. Needs Redis 6.2 or later.
 *
 * @example
 * ```ts
 * env.fromSource(Sources.redisStreams({ url: 'redis://127.0.0.1:6379', streams: ['orders'], start: 'earliest', eventTime: 'entry-id' }), 'orders')
 *   .map((entry) => ({ id: entry.id, amount: Number(entry.fields.amount) }));
 * ```
 */
export function redisStreams(options: RedisStreamsSourceOptions): Source<RedisStreamEntry> {
  // Worker threads build the job's graph while they start: loading the client now keeps it out of
  // the first read (and out of a handover's downtime). The coordinator's thread never reads.
  if (!isMainThread) void import('ioredis').catch(() => undefined);
  return new RedisStreamsSource(options);
}
