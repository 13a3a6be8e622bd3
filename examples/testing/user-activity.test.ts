// Testing the user-activity example with baton/testing: declared params, the retention policy (TTL
// on processing time, moved by the test), and a restore at another parallelism.
// Run with `npx vitest run examples/testing`; `npm test` runs it too.
import { describe, expect, it } from 'vitest';
import { JobParamError } from 'baton';
import { testJob } from 'baton/testing';
import { click } from '../clickstream.ts';
import userActivity, { isBot, type Milestone } from '../user-activity.ts';

/** Clicks 0..n-1 of the example stream that are human, with their numbers (what the test feeds). */
const humanNumbers = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i).filter((n) => !isBot(click(n)));

describe('user-activity job', () => {
  it('emits a milestone per user every `every` clicks, tagged with the region', async () => {
    const driver = await testJob(userActivity, { parallelism: 2, params: { region: 'us', every: 3 } });
    await driver.input<number>('clicks').pushAll(Array.from({ length: 600 }, (_, n) => n));
    const result = await driver.finish();
    const perUser = new Map<string, number>();
    for (const n of humanNumbers(0, 600)) perUser.set(click(n).user, (perUser.get(click(n).user) ?? 0) + 1);
    const milestones = driver.output<Milestone>('milestones').committed;
    expect(milestones.length).toBe([...perUser.values()].reduce((sum, c) => sum + Math.floor(c / 3), 0));
    expect(milestones.every((m) => m.region === 'us' && m.clicks % 3 === 0 && !m.user.endsWith('7'))).toBe(true);
    expect(result.operators['filter-bots'].counters).toEqual({ humans: humanNumbers(0, 600).length, bots: 600 - humanNumbers(0, 600).length });
  });

  it('forgets a user idle longer than the retention time (processing time), also across a restore', async () => {
    const user = click(0).user;
    const ofUser = (from: number, count: number) => {
      const out: number[] = [];
      for (let n = from; out.length < count; n++) if (click(n).user === user) out.push(n);
      return out;
    };
    const params = { every: 1, idleMinutes: 10 };
    const first = await testJob(userActivity, { params, startTime: 0 });
    await first.input<number>('clicks').pushAll(ofUser(0, 2));
    const checkpoint = await first.checkpoint();
    await first.crash();

    // Restored at parallelism 3 at the checkpoint's time: 9 minutes later the user is still known …
    const second = await testJob(userActivity, { params, parallelism: 3, restoreFrom: checkpoint });
    await second.advanceProcessingTime(9 * 60_000);
    const [third, fourth] = ofUser(ofUser(0, 2)[1] + 1, 2);
    await second.input<number>('clicks').push(third);
    // … and 11 idle minutes after that, starts over.
    await second.advanceProcessingTime(11 * 60_000);
    await second.input<number>('clicks').push(fourth);
    const clicks = second.output<Milestone>('milestones').written.filter((m) => m.user === user).map((m) => m.clicks);
    expect(clicks).toEqual([3, 1]);
    await second.close();
  });

  it('refuses a region it does not know, before anything starts', async () => {
    await expect(testJob(userActivity, { params: { region: 'mars' } })).rejects.toThrow(JobParamError);
  });
});
