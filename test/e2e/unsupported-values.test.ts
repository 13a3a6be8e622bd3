// A record a channel would change fails the job with one typed error, whether its key stays on the thread or crosses to another.
import { describe, expect, it } from 'vitest';
import { runJob, UnsupportedRecordValueError } from '../../src/index.ts';
import { keyGroupFor, subtaskForKeyGroup } from '../../src/state/index.ts';
import { jobUrl } from './helpers.ts';
import { KEYS } from './jobs/unsupported-values.ts';

const TO = 2_000;
const MAX_PARALLELISM = 128;

/** A record read by source subtask 0 (the first half of the sequence) whose key belongs to subtask 1: it crosses threads. */
function crossingRecord(): number {
  for (let n = TO / 4; n <= TO / 2; n++) {
    if (subtaskForKeyGroup(keyGroupFor(n % KEYS, MAX_PARALLELISM), MAX_PARALLELISM, 2) === 1) return n;
  }
  throw new Error('no record of the first half has a key of subtask 1');
}

async function failure(parallelism: number, bad: string, at: number): Promise<unknown> {
  const job = await runJob(jobUrl('unsupported-values'), { parallelism, maxParallelism: MAX_PARALLELISM, params: { bad, at, to: TO } });
  const error = await job.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(job.status).toBe('FAILED');
  expect(job.liveWorkerThreads()).toBe(0);
  return error;
}

describe('records a channel cannot carry faithfully', () => {
  // Only the crossing needs worker threads (a MessagePort between them): the record on a local
  // channel and the NaN key are checked in testJob, test/runtime/job-semantics.test.ts.
  it.each([['crossing to another thread (parallelism 2)', 2, crossingRecord]])('a function in a record fails the job %s with UnsupportedRecordValueError naming operator, path and type', async (_where, parallelism, at) => {
    const error = await failure(parallelism, 'function', at());
    expect(error).toBeInstanceOf(UnsupportedRecordValueError);
    expect(error).toMatchObject({ code: 'BATON_ERR_UNSUPPORTED_VALUE', operatorUid: 'readings', subtaskIndex: 0, valueType: 'function', path: 'record.payload.fn' });
    expect((error as Error).message).toContain("operator 'readings' (subtask 0)");
  });
});
