// Sources.redisStreams without a server: entry IDs, options, and splits read back from a checkpoint (hostile input).
import { describe, expect, it } from 'vitest';
import { redactRedisUrl, redisStreamSplitProblem } from '../../src/connectors/redis-streams/index.ts';
import { compareStreamIds, isStreamId, positionBeforeMs, streamIdMs } from '../../src/connectors/redis-streams/stream-id.ts';
import { JobConfigError, Sources, UnknownOptionError } from '../../src/index.ts';

describe('entry IDs', () => {
  it('accepts IDs as Redis writes them and nothing else', () => {
    for (const ok of ['0-0', '1-0', '1700000000000-12', '18446744073709551615-18446744073709551615']) expect(isStreamId(ok)).toBe(true);
    for (const bad of ['$', '>', '*', '1', '1-', '-1', '01-0', '1-01', '1-2 3', '18446744073709551616-0', '1-2\n', ' 1-2', 1, null, undefined, ['1-0']]) {
      expect(isStreamId(bad)).toBe(false);
    }
  });

  it('orders numerically, not as text', () => {
    expect(compareStreamIds('9-1', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
    expect(compareStreamIds('18446744073709551615-0', '9-0')).toBeGreaterThan(0);
  });

  it('reads the ms part, and positions a timestamp start just before that ms', () => {
    expect(streamIdMs('1700000000000-3')).toBe(1_700_000_000_000);
    expect(Number.isNaN(streamIdMs('18446744073709551615-0'))).toBe(true);
    expect(positionBeforeMs(1000)).toBe('999-18446744073709551615');
    expect(positionBeforeMs(0)).toBe('0-0');
  });
});

describe('options', () => {
  const valid = { url: 'redis://127.0.0.1:6379', streams: ['a', 'b'], start: 'earliest' } as const;
  const problem = (options: unknown) => {
    try {
      Sources.redisStreams(options as never).validate();
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(JobConfigError);
      return error as JobConfigError;
    }
  };

  it('accepts the documented shapes', () => {
    expect(problem(valid)).toBeUndefined();
    expect(problem({ ...valid, start: 'latest', end: 'bounded', eventTime: 'entry-id', idleMs: 100, batch: 10, blockMs: 50 })).toBeUndefined();
    expect(problem({ ...valid, start: { afterId: '5-1' }, eventTime: { field: 'ts' }, maxOutOfOrdernessMs: 0 })).toBeUndefined();
    expect(problem({ ...valid, start: { fromTimestampMs: 0 } })).toBeUndefined();
  });

  it('names the option at fault', () => {
    expect(problem({ ...valid, url: 'http://x' })?.option).toBe('Sources.redisStreams url');
    expect(problem({ ...valid, streams: [] })?.option).toBe('Sources.redisStreams streams');
    expect(problem({ ...valid, streams: ['a', 'a'] })?.option).toBe('Sources.redisStreams streams[1]');
    expect(problem({ ...valid, start: 'newest' })?.option).toBe('Sources.redisStreams start');
    expect(problem({ ...valid, start: { afterId: '$' } })?.option).toBe('Sources.redisStreams start.afterId');
    expect(problem({ ...valid, end: 'forever' })?.option).toBe('Sources.redisStreams end');
    expect(problem({ ...valid, eventTime: { field: '' } })?.option).toBe('Sources.redisStreams eventTime');
    expect(problem({ ...valid, idleMs: 10 })?.option).toBe('Sources.redisStreams idleMs');
    expect(problem({ ...valid, eventTime: 'entry-id', maxOutOfOrdernessMs: 5 })?.option).toBe('Sources.redisStreams maxOutOfOrdernessMs');
    expect(problem({ ...valid, batch: 0 })?.option).toBe('Sources.redisStreams batch');
    const typo = problem({ ...valid, idleMS: 10 });
    expect(typo).toBeInstanceOf(UnknownOptionError);
    expect((typo as UnknownOptionError).suggestion).toBe('idleMs');
  });

  it('never echoes the URL (it may hold a password)', () => {
    const error = problem({ ...valid, url: 'http://user:hunter2@host' });
    expect(error?.message).not.toContain('hunter2');
    expect(redactRedisUrl('redis://app:hunter2@10.0.0.5:6379/0')).toBe('redis://app:***@10.0.0.5:6379/0');
    expect(redactRedisUrl('redis://:hunter2@h:1')).not.toContain('hunter2');
  });
});

describe('splits read back from a checkpoint', () => {
  const streams = ['events:{0}', 'events:{1}'];
  const split = { id: 'redis-stream:events:{0}', stream: 'events:{0}', offset: '1700000000000-3' };

  it('accepts what the source writes', () => {
    expect(redisStreamSplitProblem(split, streams)).toBeUndefined();
    expect(redisStreamSplitProblem({ ...split, offset: '$' }, streams)).toBeUndefined();
    expect(redisStreamSplitProblem({ ...split, end: '1800000000000-0' }, streams)).toBeUndefined();
  });

  it('refuses streams the job does not read, foreign ids and anything that is not an entry ID', () => {
    expect(redisStreamSplitProblem({ ...split, stream: 'secrets', id: 'redis-stream:secrets' }, streams)?.field).toBe('.stream');
    expect(redisStreamSplitProblem({ ...split, id: 'redis-stream:events:{1}' }, streams)?.field).toBe('.id');
    expect(redisStreamSplitProblem({ ...split, offset: '0-0 STREAMS other 0' }, streams)?.field).toBe('.offset');
    expect(redisStreamSplitProblem({ ...split, offset: 17 }, streams)?.field).toBe('.offset');
    expect(redisStreamSplitProblem({ ...split, end: '+' }, streams)?.field).toBe('.end');
    expect(redisStreamSplitProblem('redis-stream:events:{0}', streams)?.field).toBe('');
    expect(redisStreamSplitProblem(null, streams)?.field).toBe('');
  });

  it('is what the source itself checks (Source.checkRestoredSplit)', () => {
    const source = Sources.redisStreams({ url: 'redis://127.0.0.1:1', streams, start: 'earliest' });
    expect(source.createSplits(3).map((s) => source.checkRestoredSplit?.(s))).toEqual([undefined, undefined]);
    expect(source.checkRestoredSplit?.({ ...split, stream: 'x', id: 'redis-stream:x' })?.expected).toContain('events:{0}, events:{1}');
  });
});
