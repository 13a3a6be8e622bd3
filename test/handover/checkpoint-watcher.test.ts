// The watcher's I/O shell against a real job directory: format detection, checkpoints completing or failing while it waits, timeout, stale targets.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeMetadata } from '../../src/checkpoint/metadata/metadata-codec.ts';
import { FileStorage } from '../../src/checkpoint/storage/index.ts';
import { JobConfigError } from '../../src/errors/index.ts';
import { StaleHandoverTargetError } from '../../src/handover/errors.ts';
import { detectCheckpointFormat } from '../../src/handover/watcher/checkpoint-format.ts';
import { watchForCheckpoint } from '../../src/handover/watcher/checkpoint-watcher.ts';
import type { TargetWatchObservation, WatchForCheckpointOptions } from '../../src/handover/watcher/types.ts';
import { makeMetadata } from '../checkpoint/metadata/fixtures.ts';

/** Start of a Flink `_metadata`: the magic 0x4960672d, then a version and a body baton cannot read. */
const FLINK_METADATA = Uint8Array.from([0x49, 0x60, 0x67, 0x2d, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x01, 0x7f]);

let dir: string;
let storage: FileStorage;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-watcher-'));
  storage = new FileStorage(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a file of the job dir synchronously, as another deployment would between two polls. */
function writeNow(key: string, data: Uint8Array | string): void {
  mkdirSync(join(dir, key, '..'), { recursive: true });
  writeFileSync(join(dir, key), data);
}

const batonMetadata = (n: number) => encodeMetadata(makeMetadata(n));

/** A watch on a fake clock: `sleep` only advances it, so nothing here waits for real time. */
function fakeClock() {
  const clock = { now: 1_000, sleeps: [] as number[], observations: [] as TargetWatchObservation[] };
  const options = {
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
  };
  return { clock, options };
}

function watch(target: number, extra: Partial<WatchForCheckpointOptions> & { onFirst?: () => void } = {}) {
  const { clock, options } = fakeClock();
  const { onFirst, ...rest } = extra;
  const result = watchForCheckpoint(storage, {
    target,
    timeoutMs: 10_000,
    ...options,
    ...rest,
    onObservation: (o) => {
      clock.observations.push(o);
      if (clock.observations.length === 1) onFirst?.();
    },
  });
  return { clock, result };
}

describe('watchForCheckpoint', () => {
  it('is ready at once when the target already completed, and reads its format as baton', async () => {
    await storage.put('chk-2/_metadata', batonMetadata(2));
    await storage.put('chk-3/op-count.0', new Uint8Array([1]));
    await storage.put('chk-3/_metadata', batonMetadata(3));
    const { clock, result } = watch(3);
    expect(await result).toEqual({ outcome: 'ready', checkpointId: 3, status: 'COMPLETED', moves: [], format: 'baton', waitedMs: 0 });
    expect(clock.observations).toHaveLength(1);
    expect(clock.observations[0].checkpoints).toEqual([
      { id: 2, status: 'COMPLETED' },
      { id: 3, status: 'COMPLETED' },
    ]);
    expect(clock.sleeps).toEqual([]);
  });

  it('reads the format of a Flink checkpoint from its magic number', async () => {
    writeNow('shared/5c1e-state', 'x');
    writeNow('chk-7/_metadata', FLINK_METADATA);
    expect(await watch(7).result).toMatchObject({ outcome: 'ready', checkpointId: 7, format: 'flink' });
  });

  it('calls any other _metadata unknown', async () => {
    writeNow('chk-7/_metadata', 'PK\u0003\u0004');
    expect(await watch(7).result).toMatchObject({ outcome: 'ready', format: 'unknown' });
    expect(detectCheckpointFormat(new Uint8Array([0x42, 0x54, 0x4e]))).toBe('unknown');
  });

  it('sees a checkpoint complete while it waits', async () => {
    await storage.put('chk-4/_metadata', batonMetadata(4));
    await storage.put('chk-5/op-count.0', new Uint8Array([1]));
    const { clock, result } = watch(5, { pollMs: 250, onFirst: () => writeNow('chk-5/_metadata', batonMetadata(5)) });
    expect(await result).toEqual({ outcome: 'ready', checkpointId: 5, status: 'COMPLETED', moves: [], format: 'baton', waitedMs: 250 });
    expect(clock.sleeps).toEqual([250]);
    expect(clock.observations.map((o) => o.actions)).toEqual([
      [{ type: 'target-status', checkpointId: 5, status: 'IN_PROGRESS', at: 1_000 }],
      [{ type: 'ready', checkpointId: 5, at: 1_250 }],
    ]);
  });

  it('moves on when the target fails while it waits', async () => {
    await storage.put('chk-5/op-count.0', new Uint8Array([1]));
    const { clock, result } = watch(5, {
      onFirst: () => {
        writeNow('chk-5/_FAILED', '{"checkpointId":5,"reason":"declined"}');
        writeNow('chk-6/_metadata', batonMetadata(6));
      },
    });
    const r = await result;
    expect(r).toMatchObject({ outcome: 'ready', checkpointId: 6, format: 'baton', waitedMs: 200 });
    expect(r.moves).toEqual([{ from: 5, to: 6, at: 1_200, reason: 'chk-5 FAILED' }]);
    expect(clock.observations[1].actions.map((a) => a.type)).toEqual(['target-moved', 'ready']);
  });

  it('moves on when a Flink directory deletes the failed target and a newer checkpoint completes', async () => {
    writeNow('chk-7/some-state-handle', 'x');
    const { result } = watch(7, {
      onFirst: () => {
        rmSync(join(dir, 'chk-7'), { recursive: true });
        writeNow('chk-8/_metadata', FLINK_METADATA);
      },
    });
    const r = await result;
    expect(r).toMatchObject({ outcome: 'ready', checkpointId: 8, format: 'flink' });
    expect(r.moves).toEqual([{ from: 7, to: 8, at: 1_200, reason: 'chk-7 UNKNOWN but newer chk-8 COMPLETED' }]);
  });

  it('times out with the last poll at the deadline', async () => {
    await storage.put('chk-9/op-count.0', new Uint8Array([1]));
    const { clock, result } = watch(9, { timeoutMs: 1_000, pollMs: 300 });
    expect(await result).toEqual({ outcome: 'timed-out', checkpointId: 9, status: 'IN_PROGRESS', moves: [], format: 'unknown', waitedMs: 1_000 });
    expect(clock.sleeps).toEqual([300, 300, 300, 100]);
    expect(clock.observations).toHaveLength(5);
    expect(clock.observations.at(-1)?.actions).toEqual([{ type: 'timed-out', checkpointId: 9, status: 'IN_PROGRESS', at: 2_000 }]);
  });

  it('takes a target that completes on the poll at the deadline', async () => {
    const { clock, result } = watch(9, {
      timeoutMs: 400,
      pollMs: 400,
      onFirst: () => writeNow('chk-9/_metadata', batonMetadata(9)),
    });
    expect(await result).toMatchObject({ outcome: 'ready', checkpointId: 9, waitedMs: 400 });
    expect(clock.observations).toHaveLength(2);
  });

  it('rejects a target older than the newest completed checkpoint, unless told to allow it', async () => {
    await storage.put('chk-1/_metadata', batonMetadata(1));
    await storage.put('chk-2/_metadata', batonMetadata(2));
    const stale = watch(1).result;
    await expect(stale).rejects.toBeInstanceOf(StaleHandoverTargetError);
    await expect(stale).rejects.toMatchObject({ targetCheckpoint: 1, newestCompleted: 2 });
    expect(await watch(1, { allowStaleTarget: true }).result).toMatchObject({ outcome: 'ready', checkpointId: 1 });
    expect(await watch(2).result).toMatchObject({ outcome: 'ready', checkpointId: 2 });
  });

  it('moves past a target that failed before the watch began rather than calling it stale', async () => {
    await storage.put('chk-1/_FAILED', new TextEncoder().encode('{"checkpointId":1,"reason":"x"}'));
    await storage.put('chk-2/_metadata', batonMetadata(2));
    const r = await watch(1).result;
    expect(r).toMatchObject({ outcome: 'ready', checkpointId: 2, moves: [{ from: 1, to: 2, reason: 'chk-1 FAILED' }] });
  });

  it('stops with the reason of an aborted signal, also during the default sleep', async () => {
    const controller = new AbortController();
    const reason = new Error('deployment cancelled');
    const watching = watchForCheckpoint(storage, {
      target: 3,
      timeoutMs: 600_000,
      pollMs: 600_000,
      signal: controller.signal,
      onObservation: () => controller.abort(reason),
    });
    await expect(watching).rejects.toBe(reason);

    const aborted = new AbortController();
    aborted.abort(reason);
    await expect(watchForCheckpoint(storage, { target: 3, timeoutMs: 1, signal: aborted.signal })).rejects.toBe(reason);
  });

  it('rejects bad options naming them', async () => {
    await expect(watchForCheckpoint(storage, { target: 3, timeoutMs: -1 })).rejects.toMatchObject({ option: 'timeoutMs' });
    await expect(watchForCheckpoint(storage, { target: 3, timeoutMs: 1, pollMs: 0 })).rejects.toBeInstanceOf(JobConfigError);
    await expect(watchForCheckpoint(storage, { target: -3, timeoutMs: 1 })).rejects.toMatchObject({ option: 'target' });
  });
});
