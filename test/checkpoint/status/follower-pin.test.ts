// Follower pins: validated when read (storage is hostile input), live or expired by their lease.
import { describe, expect, it } from 'vitest';
import { parsePin, pinKey, pinnedCheckpoints, readPins, runIdOfPinKey, writePin } from '../../../src/checkpoint/status/follower-pin.ts';
import { MemoryStorage } from '../memory-storage.ts';

const RUN = '6f1c2d3e-0000-4000-8000-000000000001';

describe('follower pins', () => {
  it('round-trips a pin and sorts pins into live, expired and invalid', async () => {
    const storage = new MemoryStorage();
    await writePin(storage, { runId: RUN, checkpoints: [7, 8], renewedAt: 1_000, expiresAt: 11_000 });
    await writePin(storage, { runId: 'dead-b', checkpoints: [3], renewedAt: 0, expiresAt: 5_000 });
    storage.seed('handover/pin-torn.json', '{"runId":"torn","checkp');
    storage.seed('handover/pin-liar.json', JSON.stringify({ runId: RUN, checkpoints: [1], renewedAt: 0, expiresAt: 1e15 }));
    storage.seed('handover/pin-..%2f.json', '{}');
    storage.seed('handover/stop-request.json', '{"afterCheckpoint":3}');
    const census = await readPins(storage, 6_000);
    expect(census.live.map((p) => p.runId)).toEqual([RUN]);
    expect(census.expired).toEqual(['handover/pin-dead-b.json']);
    expect([...census.invalid].sort()).toEqual(['handover/pin-..%2f.json', 'handover/pin-liar.json', 'handover/pin-torn.json']);
    expect([...pinnedCheckpoints(census)]).toEqual([7, 8]);
    // At 11 000 the lease has run out.
    expect((await readPins(storage, 11_000)).live).toEqual([]);
  });

  it('refuses hostile names and bodies', () => {
    expect(() => pinKey('../x')).toThrow(RangeError);
    expect(runIdOfPinKey('handover/pin-a/b.json')).toBeUndefined();
    expect(runIdOfPinKey('handover/pin-ab.json')).toBe('ab');
    const good = { runId: 'ab', checkpoints: [1], renewedAt: 0, expiresAt: 1 };
    expect(parsePin(JSON.stringify(good), 'ab')).toEqual(good);
    for (const bad of [
      { ...good, checkpoints: [-1] },
      { ...good, checkpoints: [1.5] },
      { ...good, checkpoints: '1' },
      { ...good, checkpoints: Array(65).fill(1) },
      { ...good, expiresAt: 'soon' },
      { ...good, runId: 'cd' },
      [good],
    ]) {
      expect(parsePin(JSON.stringify(bad), 'ab')).toBeUndefined();
    }
    expect(parsePin('not json', 'ab')).toBeUndefined();
  });
});
