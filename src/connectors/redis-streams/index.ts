// Sources.redisStreams: the public face of the Redis Streams source.
export { redactRedisUrl, RedisStreamsEventTimeError, RedisStreamsReadError } from './errors.ts';
export type { RedisStreamsSourceOptions, RedisStreamsStart } from './options.ts';
export type { RedisStreamEntry, RedisStreamSplit } from './reader.ts';
export { redisStreams, redisStreamSplitId, redisStreamSplitProblem } from './source.ts';
export { compareStreamIds, isStreamId } from './stream-id.ts';
