// StorageProblemReporter: a failing periodic storage call is one event, reminders are rate-limited, recovery is told.
import { describe, expect, it } from 'vitest';
import { type StorageProblemEvent, StorageProblemReporter } from '../../../src/runtime/coordinator/storage-problem-reporter.ts';

function reporter(repeatMs = 1_000) {
  let now = 0;
  const events: StorageProblemEvent[] = [];
  const r = new StorageProblemReporter('read stop request', (e) => events.push(e), repeatMs, () => now);
  return { r, events, advance: (ms: number) => (now += ms) };
}

describe('StorageProblemReporter', () => {
  it('reports the first failure of a streak with its cause, then at most once per repeatMs', () => {
    const { r, events, advance } = reporter();
    for (let i = 0; i < 34; i++) {
      r.failed(new Error(`503 Service Unavailable #${i}`));
      advance(100);
    }
    // 34 failures over 3.4 s: the first, and one reminder per elapsed second.
    expect(events.map((e) => e.failures)).toEqual([1, 11, 21, 31]);
    expect(events[0]).toEqual({ operation: 'read stop request', error: '503 Service Unavailable #0', failures: 1, recovered: false });
  });

  it('reports the recovery once, with the number of failures, and nothing while all is well', () => {
    const { r, events } = reporter();
    r.succeeded();
    r.failed('timeout');
    r.failed('timeout');
    r.succeeded();
    r.succeeded();
    expect(events).toEqual([
      { operation: 'read stop request', error: 'timeout', failures: 1, recovered: false },
      { operation: 'read stop request', error: 'timeout', failures: 2, recovered: true },
    ]);
    r.failed('again');
    expect(events.at(-1)).toEqual({ operation: 'read stop request', error: 'again', failures: 1, recovered: false });
  });
});
