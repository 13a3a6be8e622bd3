// Retention and sweeps keep what a live follower pin names (a handover's B restoring without claiming) and drop expired pins.
import { describe, expect, it } from 'vitest';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { discardUnlessPinned } from '../../../src/checkpoint/registry/chunk-cleaner.ts';
import { sweepJobDirectory } from '../../../src/checkpoint/registry/sweep.ts';
import { listCheckpoints } from '../../../src/checkpoint/status/checkpoint-status.ts';
import { writePin } from '../../../src/checkpoint/status/follower-pin.ts';
import type { KeyGroupChain } from '../../../src/checkpoint/types.ts';
import { StorageCheckpointPersistence } from '../../../src/runtime/coordinator/checkpoint-persistence.ts';
import { MemoryStorage } from '../memory-storage.ts';
import { chain, makeMetadata } from '../metadata/fixtures.ts';

const id = (checkpoint: number, kind = 'delta') => `sum-0-127-${checkpoint}-${kind}-0000000a`;

function writeCheckpoint(storage: MemoryStorage, n: number, chains: KeyGroupChain[]): void {
  for (const c of chains) for (const ref of c.chain) storage.seed(`shared/${ref.id}`, ref.id);
  storage.seed(`chk-${n}/_metadata`, encodeMetadata(makeMetadata(n, chains)));
}

/** Checkpoints 1..3: 2 has a chunk only it uses (a new base at 2, another at 3). */
function directory(): MemoryStorage {
  const storage = new MemoryStorage();
  writeCheckpoint(storage, 1, [chain(0, 127, id(1, 'base'))]);
  writeCheckpoint(storage, 2, [chain(0, 127, id(2, 'base'))]);
  writeCheckpoint(storage, 3, [chain(0, 127, id(3, 'base'))]);
  return storage;
}

const completed = async (s: MemoryStorage) => (await listCheckpoints(s)).filter((c) => c.status === 'COMPLETED').map((c) => c.id);

describe('retention under follower pins', () => {
  it('discard holds a checkpoint a live pin names, with its chunks, and discards it once the pin is gone or expired', async () => {
    const storage = directory();
    await writePin(storage, { runId: 'b-run', checkpoints: [2], renewedAt: 0, expiresAt: 10_000 });
    const first = await discardUnlessPinned(storage, [1, 2], 5_000);
    expect(first.held).toEqual([2]);
    expect(await completed(storage)).toEqual([2, 3]);
    expect(storage.objects.has(`shared/${id(2, 'base')}`)).toBe(true);
    expect(storage.objects.has(`shared/${id(1, 'base')}`)).toBe(false);
    // The same pin, read after its lease ran out, holds nothing.
    const later = await discardUnlessPinned(storage, [2], 10_000);
    expect(later).toEqual({ deleted: [id(2, 'base')], held: [] });
    expect(await completed(storage)).toEqual([3]);
  });

  it('a discard told to pause stops between two checkpoints (before the registry is read, or after a whole one) and reports the rest as held', async () => {
    const storage = directory();
    const before = await discardUnlessPinned(storage, [1, 2], 5_000, () => true);
    expect(before).toEqual({ deleted: [], held: [1, 2] });
    expect(storage.calls.filter((c) => c.startsWith('list ') && !c.startsWith('list handover'))).toEqual([]);
    expect(await completed(storage)).toEqual([1, 2, 3]);
    // Paused once checkpoint 1 went (asked before the registry, before 1, before 2): all of it went, 2 is left whole.
    let asked = 0;
    const mid = await discardUnlessPinned(storage, [1, 2], 5_000, () => ++asked > 2);
    expect(mid).toEqual({ deleted: [id(1, 'base')], held: [2] });
    expect(await completed(storage)).toEqual([2, 3]);
    expect(storage.objects.has(`shared/${id(2, 'base')}`)).toBe(true);
  });

  it('the running job made quiet mid-discard leaves the rest to its next discard', async () => {
    const storage = directory();
    const persistence = new StorageCheckpointPersistence(storage, { retain: 1, now: () => 1_000 });
    // Quiet as soon as the discard looked at the pins: it stops before reading the registry.
    const readPin = storage.list.bind(storage);
    storage.list = async (prefix: string) => {
      const keys = await readPin(prefix);
      if (prefix.startsWith('handover')) persistence.quiet(true);
      return keys;
    };
    await persistence.discard([1]);
    expect(await completed(storage)).toEqual([1, 2, 3]);
    storage.list = readPin;
    persistence.quiet(false);
    await persistence.discard([2]);
    expect(await completed(storage)).toEqual([3]);
  });

  it('the running job retries what a pin held back at its next discard', async () => {
    const storage = directory();
    let now = 1_000;
    const persistence = new StorageCheckpointPersistence(storage, { retain: 1, now: () => now });
    await writePin(storage, { runId: 'b-run', checkpoints: [1], renewedAt: 0, expiresAt: 10_000 });
    await persistence.discard([1]);
    expect(await completed(storage)).toEqual([1, 2, 3]);
    // B moved on: its pin names 3 now. The coordinator asks to discard 2 only; 1 goes too.
    await writePin(storage, { runId: 'b-run', checkpoints: [3], renewedAt: 2_000, expiresAt: 12_000 });
    now = 2_000;
    await persistence.discard([2]);
    expect(await completed(storage)).toEqual([3]);
  });

  it('a sweep keeps pinned checkpoints out of retention, removes expired pins and reports invalid ones', async () => {
    const storage = directory();
    await writePin(storage, { runId: 'live-b', checkpoints: [1], renewedAt: 0, expiresAt: 10_000 });
    await writePin(storage, { runId: 'dead-b', checkpoints: [2], renewedAt: 0, expiresAt: 4_000 });
    storage.seed('handover/pin-torn.json', '{"runId":');
    const report = await sweepJobDirectory(storage, { retain: 1, activeFrom: 4, spillSegments: false, now: 5_000 });
    expect(report.discarded).toEqual([2]);
    expect(report.held).toEqual([1]);
    expect(report.expiredPins).toEqual(['handover/pin-dead-b.json']);
    expect(report.invalidPins).toEqual(['handover/pin-torn.json']);
    expect(await completed(storage)).toEqual([1, 3]);
    expect(storage.objects.has(`shared/${id(1, 'base')}`)).toBe(true);
    expect(storage.objects.has('handover/pin-dead-b.json')).toBe(false);
    expect(storage.objects.has('handover/pin-live-b.json')).toBe(true);
  });
});

describe('handover reports', () => {
  it('a sweep keeps the newest three handover reports and never touches the stop request', async () => {
    const storage = directory();
    for (const n of [1, 2, 3, 10]) storage.seed(`handover/report-chk-${n}.json`, '{}');
    storage.seed('handover/report-chk-07.json', '{}');
    storage.seed('handover/stop-request.json', '{}');
    const report = await sweepJobDirectory(storage, { retain: 3, activeFrom: 4, spillSegments: false });
    expect(report.reports).toEqual(['handover/report-chk-1.json']);
    expect([...storage.objects.keys()].filter((k) => k.startsWith('handover/')).sort()).toEqual([
      'handover/report-chk-07.json',
      'handover/report-chk-10.json',
      'handover/report-chk-2.json',
      'handover/report-chk-3.json',
      'handover/stop-request.json',
    ]);
  });
});
