// Testing the sessionization example with baton/testing: late views update their session or land in the
// late output, the same at any parallelism and across a crash. Run with `npx vitest run examples/testing`.
import { describe, expect, it } from 'vitest';
import { testJob } from 'baton/testing';
import sessionization, { type PageView, pageView, type Session } from '../sessionization.ts';

const sorted = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).sort();

describe('sessionization job', () => {
  it('emits a session again for each synced view and sends views too late for it to the late output', async () => {
    const driver = await testJob(sessionization, { parallelism: 2 });
    // The job maps view numbers to page views: the test feeds the numbers.
    await driver.input<number>('views').pushAll(Array.from({ length: 20_000 }, (_, n) => n));
    const result = await driver.finish();
    const sessions = driver.output<Session>('sessions-out').committed;
    const late = driver.output<PageView>('late-out').committed;
    // Every on-time and synced view is in exactly one final emission of its session.
    const finals = new Map<string, Session>();
    for (const s of sessions) {
      const id = `${s.user}@${s.start}`;
      if ((finals.get(id)?.views ?? 0) < s.views) finals.set(id, s);
    }
    const views = [...finals.values()].reduce((n, s) => n + s.views, 0);
    expect(views + late.length).toBe(20_000);
    expect(sessions.some((s) => s.synced > 0)).toBe(true);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((v) => v.synced)).toBe(true);
    expect(result.operators.sessions.lateRecordsDropped).toBe(0);
  });

  it('commits the same sessions after a crash and a restore at another parallelism', async () => {
    const numbers = Array.from({ length: 16_000 }, (_, n) => n);
    const whole = await testJob(sessionization, { parallelism: 2 });
    await whole.input<number>('views').pushAll(numbers);
    await whole.finish();

    const first = await testJob(sessionization, { parallelism: 2 });
    await first.input<number>('views').pushAll(numbers.slice(0, 13_000));
    const checkpoint = await first.checkpoint();
    await first.input<number>('views').pushAll(numbers.slice(13_000, 14_000));
    await first.crash();
    const second = await testJob(sessionization, { parallelism: 3, restoreFrom: checkpoint });
    await second.input<number>('views').pushAll(numbers.slice(14_000));
    await second.finish();
    expect(sorted(second.output('sessions-out').committed)).toEqual(sorted(whole.output('sessions-out').committed));
    expect(sorted(second.output('late-out').committed)).toEqual(sorted(whole.output('late-out').committed));
    // The views replayed after the restore include late ones.
    expect(numbers.slice(13_000, 14_000).filter((n) => pageView(n).synced).length).toBeGreaterThan(5);
  });
});
