// Testing a job with async I/O (asyncMap) in baton/testing: the enrichment example, its lookups really asynchronous.
// Run with `npx vitest run examples/testing`; `npm test` runs it too.
import { describe, expect, it } from 'vitest';
import { testJob } from 'baton/testing';
import enrichment, { type EnrichedOrder, order, profile } from '../enrichment.ts';

const numbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('enrichment job', () => {
  it('enriches every order with its customer profile; await push() waits for the lookups in flight', async () => {
    const driver = await testJob(enrichment, { parallelism: 2, params: { latencyMs: 1 } });
    await driver.input<number>('orders').pushAll(numbers(1, 300));
    // The lookups answer out of order (ordered: false); each order is there once, with its profile.
    const enriched = driver.output<EnrichedOrder>('enriched').written;
    expect(enriched.map((o) => o.id).sort((a, b) => a - b)).toEqual(numbers(1, 300));
    for (const o of enriched) expect(o).toEqual({ ...order(o.id), ...profile(o.customer) });
    const result = await driver.finish();
    expect(result.status).toBe('FINISHED');
  });

  it('a crash and a restore (another parallelism) enrich each order exactly once', async () => {
    const first = await testJob(enrichment, { parallelism: 2, params: { latencyMs: 1 } });
    await first.input<number>('orders').pushAll(numbers(1, 100));
    const checkpoint = await first.checkpoint();
    await first.input<number>('orders').pushAll(numbers(101, 50));
    await first.crash();

    const second = await testJob(enrichment, { parallelism: 3, restoreFrom: checkpoint, params: { latencyMs: 1 } });
    await second.input<number>('orders').pushAll(numbers(151, 50));
    await second.finish();
    const ids = second.output<EnrichedOrder>('enriched').committed.map((o) => o.id);
    expect(ids.sort((a, b) => a - b)).toEqual(numbers(1, 200));
  });
});
