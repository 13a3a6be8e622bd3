// The retry schedule of a storage call: backoff for a store in trouble, an at-once re-read after a torn read.
import { describe, expect, it } from 'vitest';
import { StorageShortBodyError } from '../../../src/checkpoint/storage/index.ts';
import { retrying, TORN_READ_RETRY_MS, worstCaseMs } from '../../../src/checkpoint/storage/timeouts.ts';

const timeouts = { requestMs: 5_000, attempts: 4, backoffMs: 200 };

/** Fails with `failures` in turn, then answers 'ok'; returns the result and the waits between tries. */
async function run(failures: readonly Error[], options: { torn?: boolean } = {}) {
  const waits: number[] = [];
  let call = 0;
  const result = await retrying(
    timeouts,
    async () => {
      const failure = failures[call++];
      if (failure) throw failure;
      return 'ok';
    },
    () => true,
    (g) => new Error(`gave up after ${g.attempts}`),
    {
      sleep: async (ms) => void waits.push(ms),
      ...(options.torn === false ? {} : { isTornRead: (e: unknown) => e instanceof StorageShortBodyError }),
    },
  ).catch((e: Error) => e.message);
  return { result, waits, calls: call };
}

const torn = () => new StorageShortBodyError(10, 80);
const unavailable = () => Object.assign(new Error('503'), { name: 'ServiceUnavailable' });

describe('retrying', () => {
  it('reads again at once after a torn read (an object still being written), then backs off as usual', async () => {
    const once = await run([torn()]);
    expect(once).toEqual({ result: 'ok', waits: [TORN_READ_RETRY_MS], calls: 2 });
    const thrice = await run([torn(), torn(), torn()]);
    expect(thrice.result).toBe('ok');
    expect(thrice.waits[0]).toBe(TORN_READ_RETRY_MS);
    // The usual schedule from its start: 200 ms then 400 ms, ±50 %.
    expect(thrice.waits[1]).toBeGreaterThanOrEqual(100);
    expect(thrice.waits[1]).toBeLessThanOrEqual(300);
    expect(thrice.waits[2]).toBeGreaterThanOrEqual(200);
    expect(thrice.waits[2]).toBeLessThanOrEqual(600);
    // Never longer in all than the bound callers rely on.
    expect(thrice.waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(worstCaseMs(timeouts) - timeouts.requestMs * timeouts.attempts);
  });

  it('backs off from a store in trouble, and from a torn read when the caller does not say what one is', async () => {
    const busy = await run([unavailable()]);
    expect(busy.waits[0]).toBeGreaterThanOrEqual(100);
    const unknown = await run([torn()], { torn: false });
    expect(unknown.waits[0]).toBeGreaterThanOrEqual(100);
  });

  it('a torn read after a failure of another kind is still read again at once; the attempts stay bounded', async () => {
    const mixed = await run([unavailable(), torn()]);
    expect(mixed.result).toBe('ok');
    expect(mixed.waits[1]).toBe(TORN_READ_RETRY_MS);
    const endless = await run([torn(), torn(), torn(), torn(), torn()]);
    expect(endless).toMatchObject({ result: 'gave up after 4', calls: 4 });
  });
});
