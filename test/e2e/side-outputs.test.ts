// Side outputs and broadcast across worker threads (MessagePort channels), compared with testJob in this thread.
import { describe, expect, it } from 'vitest';
import { testJob } from '../../src/testing/index.ts';
import job from './jobs/side-outputs.ts';
import { runToCompletion } from './helpers.ts';

describe('side outputs and broadcast on threads', () => {
  it('give the same committed output as in testJob, at parallelism 3', async () => {
    const threaded = await runToCompletion('side-outputs', { parallelism: 3, params: { to: 1_000 } });
    const collected = (uid: string) => (threaded.collected[uid] as number[]).slice().sort((a, b) => a - b);
    expect(collected('evens')).toEqual(Array.from({ length: 500 }, (_, i) => (i + 1) * 2));
    expect(collected('odds')).toEqual(Array.from({ length: 500 }, (_, i) => (2 * i + 1) * 10));
    // Every one of the three subtasks got each of the ten hundreds.
    expect(collected('broadcast')).toEqual(Array.from({ length: 10 }, (_, i) => -(10 - i) * 100).flatMap((n) => [n, n, n]));

    const driver = await testJob(job, { parallelism: 3, params: { to: 1_000 }, inputs: [] });
    await driver.finish();
    for (const uid of ['evens', 'odds', 'broadcast']) {
      expect(driver.output<number>(uid).committed.slice().sort((a, b) => a - b)).toEqual(collected(uid));
    }
  });
});
