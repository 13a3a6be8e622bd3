// Two-input operators on worker threads with a worker killed mid-run: keyed connect (shared keyed
// state and timers) and an interval join (buffers and cleanup timers). The restarted job restores
// from its latest checkpoint; what it commits equals, record for record, an uninterrupted run of the
// same job (in this thread) and a plain reference. Broadcast state: broadcast-state-kill.test.ts.
import { describe, expect, it } from 'vitest';
import intervalJoinKill, { expectedPairs } from './jobs/interval-join-kill.ts';
import keyedConnectKill, { expectedLines } from './jobs/keyed-connect-kill.ts';
import { killedRun, TO, uninterruptedRun } from './two-inputs-kill-helpers.ts';

describe('two-input operators: a worker killed and restored on threads', () => {
  it('keyed connect: orders and payments matched in shared keyed state, unpaid ones by timers, exactly once', async () => {
    const expected = expectedLines(TO);
    expect(expected.some((l) => l.startsWith('unpaid'))).toBe(true);
    const killed = await killedRun('keyed-connect-kill');
    // Restored from a checkpoint taken during the run, not from the start.
    expect(killed.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(killed.lines).toEqual(expected);
    expect(await uninterruptedRun(keyedConnectKill, 'keyed-connect')).toEqual(killed.lines);
  });

  it('interval join: buffered records and their cleanup timers survive the kill, every pair once', async () => {
    const expected = expectedPairs(TO);
    expect(expected.length).toBeGreaterThan(TO);
    const killed = await killedRun('interval-join-kill');
    expect(killed.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(killed.lines).toEqual(expected);
    expect(await uninterruptedRun(intervalJoinKill, 'interval-join')).toEqual(killed.lines);
  });
});
