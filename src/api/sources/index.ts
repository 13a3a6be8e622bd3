// The built-in sources, as `Sources.*`.
import { redisStreams } from '../../connectors/redis-streams/index.ts';
import { elements } from './elements.ts';
import { file } from './file.ts';
import { sequence } from './sequence.ts';

export type { ElementsSplit } from './elements.ts';
export type { FileSourceOptions, FileSplit } from './file.ts';
export type { SequenceOptions, SequenceSplit } from './sequence.ts';
export type { RedisStreamEntry, RedisStreamSplit, RedisStreamsSourceOptions, RedisStreamsStart } from '../../connectors/redis-streams/index.ts';

/**
 * Built-in sources.
 *
 * @example
 * const numbers = Sources.sequence({ from: 1, to: 100 });
 * const lines = Sources.file({ path: './input.txt' });
 * const words = Sources.elements(['a', 'b', 'c']);
 * const orders = Sources.redisStreams({ url: 'redis://127.0.0.1:6379', streams: ['orders'], start: 'earliest' });
 */
export const Sources = { sequence, file, elements, redisStreams } as const;
