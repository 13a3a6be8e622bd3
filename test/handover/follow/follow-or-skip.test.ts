// B's follower: pins before it reads, skips a checkpoint A discarded meanwhile, fails on damage that stays.
import { describe, expect, it } from 'vitest';
import { CorruptCheckpointError } from '../../../src/checkpoint/errors.ts';
import { encodeMetadata } from '../../../src/checkpoint/metadata/metadata-codec.ts';
import { readPins } from '../../../src/checkpoint/status/follower-pin.ts';
import type { CheckpointMetadata } from '../../../src/checkpoint/types.ts';
import { followNewest, followOrSkip, PinLease } from '../../../src/handover/follow/index.ts';
import type { FollowResult } from '../../../src/runtime/coordinator/start-sequence.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';
import { makeMetadata } from '../../checkpoint/metadata/fixtures.ts';

const RUN = 'b-0000';
const applied: FollowResult = { chunks: 2, bytes: 200, reloads: 0 };

function withCheckpoints(...ids: number[]): MemoryStorage {
  const storage = new MemoryStorage();
  for (const n of ids) storage.seed(`chk-${n}/_metadata`, encodeMetadata(makeMetadata(n)));
  return storage;
}

/** A control whose follow runs `during` (A's retention acting while B downloads) and answers `result`. */
function control(during: (m: CheckpointMetadata) => void = () => undefined, result: (m: CheckpointMetadata) => FollowResult = () => applied) {
  const followed: number[] = [];
  return {
    followed,
    follow: async (m: CheckpointMetadata) => {
      followed.push(m.checkpointId);
      during(m);
      return result(m);
    },
  };
}

describe('followOrSkip', () => {
  it('pins the checkpoint before it reads it, then follows it', async () => {
    const storage = withCheckpoints(4);
    const lease = new PinLease(storage, RUN, { now: () => 1_000 });
    const c = control();
    const outcome = await followOrSkip({ storage, control: c, lease }, 4);
    expect(outcome).toMatchObject({ kind: 'followed', applied });
    expect(c.followed).toEqual([4]);
    const pinAt = storage.calls.indexOf(`put handover/pin-${RUN}.json`);
    expect(pinAt).toBeGreaterThanOrEqual(0);
    expect(pinAt).toBeLessThan(storage.calls.indexOf('get chk-4/_metadata'));
    expect((await readPins(storage, 1_001)).live).toEqual([{ runId: RUN, checkpoints: [4], renewedAt: 1_000, expiresAt: 11_000 }]);
    await lease.release();
    expect(storage.objects.has(`handover/pin-${RUN}.json`)).toBe(false);
  });

  it('skips a checkpoint whose `_metadata` is gone before the read', async () => {
    const storage = withCheckpoints(5);
    const c = control();
    expect(await followOrSkip({ storage, control: c }, 4)).toMatchObject({ kind: 'vanished', id: 4 });
    expect(c.followed).toEqual([]);
  });

  it('skips a checkpoint discarded while its chunks were downloaded (its `_metadata` is gone too)', async () => {
    const storage = withCheckpoints(4);
    const c = control(
      () => storage.objects.delete('chk-4/_metadata'),
      () => ({ ...applied, missing: 'shared/b-4' }),
    );
    expect(await followOrSkip({ storage, control: c }, 4)).toMatchObject({ kind: 'vanished', id: 4, reason: expect.stringContaining('shared/b-4') });
  });

  it('a missing chunk of a checkpoint that is still there is damage', async () => {
    const storage = withCheckpoints(4);
    const c = control(undefined, () => ({ ...applied, missing: 'shared/b-4' }));
    const error = await followOrSkip({ storage, control: c }, 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect(error).toMatchObject({ reason: 'missing', key: 'shared/b-4', checkpointId: 4 });
  });

  it('reads a `_metadata` still being written again instead of failing', async () => {
    const storage = withCheckpoints(4);
    const whole = storage.objects.get('chk-4/_metadata')!;
    storage.objects.set('chk-4/_metadata', new Uint8Array(0));
    const c = control();
    const settle = { sleep: async () => storage.objects.set('chk-4/_metadata', whole) };
    expect(await followOrSkip({ storage, control: c, settle }, 4)).toMatchObject({ kind: 'followed' });
  });
});

describe('followNewest (stage 1)', () => {
  it('when the newest is discarded while B downloads it, lists again and follows the newer one', async () => {
    const storage = withCheckpoints(4);
    const skipped: number[] = [];
    const c = control(
      (m) => {
        // A completes 5 and its retention (retain 1) discards 4 under B.
        if (m.checkpointId !== 4) return;
        storage.seed('chk-5/_metadata', encodeMetadata(makeMetadata(5)));
        storage.objects.delete('chk-4/_metadata');
      },
      (m) => (m.checkpointId === 4 ? { ...applied, missing: 'shared/b-4' } : applied),
    );
    const outcome = await followNewest({ storage, control: c }, (s) => skipped.push(s.id));
    expect(outcome?.metadata.checkpointId).toBe(5);
    expect(c.followed).toEqual([4, 5]);
    expect(skipped).toEqual([4]);
  });

  it('an empty directory: nothing to follow', async () => {
    expect(await followNewest({ storage: new MemoryStorage(), control: control() })).toBeUndefined();
  });
});

describe('PinLease', () => {
  it('renews its lease while held and stops once released', async () => {
    const storage = new MemoryStorage();
    let now = 0;
    const lease = new PinLease(storage, RUN, { leaseMs: 30, now: () => now });
    await lease.hold([9]);
    const renewed = new Promise<void>((resolve) => {
      const put = storage.put.bind(storage);
      storage.put = async (key, data) => {
        await put(key, data);
        resolve();
      };
    });
    now = 100;
    await renewed;
    expect((await readPins(storage, 101)).live[0]).toMatchObject({ checkpoints: [9], expiresAt: 130 });
    await lease.release();
    expect((await readPins(storage, 0)).live).toEqual([]);
    await expect(lease.hold([10])).rejects.toThrow(/released/);
  });
});

describe('PinLease release', () => {
  it('waits for a renewal under way, so no pin is left behind after release', async () => {
    const storage = new MemoryStorage();
    const lease = new PinLease(storage, RUN, { leaseMs: 3 });
    let landRenewal: () => void = () => undefined;
    let renewalStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      renewalStarted = resolve;
    });
    await lease.hold([9]);
    const put = storage.put.bind(storage);
    // The next write (a renewal by the timer) is slow: it lands only when the test says so.
    storage.put = async (key, data) => {
      renewalStarted();
      await new Promise<void>((resolve) => {
        landRenewal = resolve;
      });
      await put(key, data);
    };
    await started;
    const released = lease.release();
    landRenewal();
    await released;
    expect(storage.objects.has(`handover/pin-${RUN}.json`)).toBe(false);
  });
});
