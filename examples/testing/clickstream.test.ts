// Testing a job with baton/testing (vitest): the clickstream example job, fed click by click in this thread.
// Run with `npx vitest run examples/testing`; `npm test` runs it too.
import { describe, expect, it } from 'vitest';
import { testJob } from 'baton/testing';
import clickstream, { click } from '../clickstream.ts';

describe('clickstream job', () => {
  it('counts clicks per user and minute once the watermark passes the minute', async () => {
    // The job reads a sequence of numbers ('clicks') and maps each to a click: the test feeds the numbers.
    const driver = await testJob(clickstream, { parallelism: 2 });
    const clicks = driver.input<number>('clicks');
    // 2 000 clicks, 50 ms of event time apart: 100 s, so at least one minute closes.
    const all = Array.from({ length: 2_000 }, (_, n) => click(n));
    await clicks.pushAll(all.map((_, n) => n));
    // Each click carries its own event time; a minute closes once the watermark (newest time - 2 s) passes it.
    const early = driver.output<{ user: string; minute: string; count: number }>('minutes').written;
    expect(early.length).toBeGreaterThan(0);
    expect(driver.output('minutes').committed).toEqual([]);

    // A checkpoint commits what is written so far; the end of input fires the remaining windows.
    await driver.checkpoint();
    expect(driver.output('minutes').uncommitted).toEqual([]);
    await driver.finish();
    const perUser = new Map<string, number>();
    for (const row of driver.output<{ user: string; count: number }>('minutes').committed) perUser.set(row.user, (perUser.get(row.user) ?? 0) + row.count);
    const expected = new Map<string, number>();
    for (const c of all) expected.set(c.user, (expected.get(c.user) ?? 0) + 1);
    expect(perUser).toEqual(expected);
  });

  it('keeps counting across a crash: a restore from the checkpoint commits every click exactly once', async () => {
    const first = await testJob(clickstream, { parallelism: 2 });
    await first.input<number>('clicks').pushAll(Array.from({ length: 100 }, (_, n) => n));
    const checkpoint = await first.checkpoint();
    await first.input<number>('clicks').pushAll(Array.from({ length: 50 }, (_, n) => 100 + n));
    await first.crash();

    // Restored at another parallelism: reads on from the checkpoint (the 50 clicks after it again).
    const second = await testJob(clickstream, { parallelism: 3, restoreFrom: checkpoint });
    await second.input<number>('clicks').pushAll(Array.from({ length: 50 }, (_, n) => 150 + n));
    await second.finish();
    const total = second.output<{ count: number }>('minutes').committed.reduce((n, row) => n + row.count, 0);
    expect(total).toBe(200);
  });
});
