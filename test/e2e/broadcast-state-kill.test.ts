// The broadcast-state pattern on worker threads with a worker killed mid-run: the fraud-rules
// example's engine, rule updates broadcast to the keyed transactions all along the run. The
// restarted job restores its broadcast state (and keyed state and timers) from the latest
// checkpoint; what it commits equals, record for record, an uninterrupted run and a plain reference.
import { describe, expect, it } from 'vitest';
import type { RuleUpdate, Transaction } from '../../examples/fraud-rules.ts';
import { referenceAlerts } from '../../examples/testing/fraud-rules-reference.ts';
import fraudRulesKill, { item } from './jobs/fraud-rules-kill.ts';
import { killedRun, TO, uninterruptedRun } from './two-inputs-kill-helpers.ts';

const items = Array.from({ length: TO }, (_, i) => item(i + 1, 40));
const expected = referenceAlerts(items.flatMap((i) => ('tx' in i ? [i.tx] : [])) as Transaction[], items.flatMap((i) => ('rule' in i ? [i.rule] : [])) as RuleUpdate[]);

describe('broadcast state: a worker killed and restored on threads', () => {
  it('rule updates broadcast to the keyed rule engine all along the run, exactly once', async () => {
    for (const rule of ['big-amount', 'burst', 'sanctions']) expect(expected.some((l) => l.includes(`,${rule},`))).toBe(true);
    const killed = await killedRun('fraud-rules-kill');
    expect(killed.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(killed.lines).toEqual(expected);
    expect(await uninterruptedRun(fraudRulesKill, 'fraud-rules')).toEqual(killed.lines);
  });

  it('unaligned checkpoints behind a slow stage (in-flight input saved as channel state, replayed to its input after the kill): exactly once', async () => {
    const killed = await killedRun('fraud-rules-kill', { mode: 'unaligned', slowMicros: 300 });
    expect(killed.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(killed.lines).toEqual(expected);
    // How much in-flight input the checkpoints carried depends on timing: reported, not asserted.
    const withState = [...killed.channelStateBytes.values()].filter((b) => b > 64).length;
    console.log(`unaligned: ${withState} of ${killed.channelStateBytes.size} completed checkpoints had channel state; the restored one (${killed.restoredFrom}) ${killed.channelStateBytes.get(killed.restoredFrom ?? -1) ?? '?'} bytes`);
  });
});
