// When an incremental chain gets a new base, and what a late upload may not change.
import { describe, expect, it } from 'vitest';
import type { ChunkRef } from '../../../src/checkpoint/types.ts';
import type { Subtask } from '../../../src/runtime/task/subtask.ts';
import type { SubtaskAck } from '../../../src/runtime/worker/protocol.ts';
import { needsNewBase, WorkerCheckpoints } from '../../../src/runtime/worker/worker-checkpoints.ts';
import type { KeyedStateBackend, StateChunk } from '../../../src/state/types.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';

const ref = (kind: 'base' | 'delta', bytes: number): ChunkRef => ({ id: `${kind}-${bytes}`, kind, bytes, entries: 1 });
const policy = { maxDeltas: 3, maxDeltaBytesRatio: 0.5 };

describe('needsNewBase', () => {
  it('starts every chain with a base', () => {
    expect(needsNewBase(undefined, policy)).toBe(true);
    expect(needsNewBase([], policy)).toBe(true);
  });

  it('adds deltas until the chain has maxDeltas of them', () => {
    const chain = [ref('base', 100_000), ref('delta', 10)];
    expect(needsNewBase(chain, policy)).toBe(false);
    expect(needsNewBase([...chain, ref('delta', 10), ref('delta', 10)], policy)).toBe(true);
  });

  it('writes a new base once the deltas outgrow the given share of the base', () => {
    expect(needsNewBase([ref('base', 100_000), ref('delta', 40_000)], policy)).toBe(false);
    expect(needsNewBase([ref('base', 100_000), ref('delta', 40_000), ref('delta', 20_000)], policy)).toBe(true);
  });
});

describe('WorkerCheckpoints with an upload that finishes late', () => {
  /** A keyed backend that hands out one marked chunk per snapshot (kind and number visible in its bytes). */
  function fakeBackend() {
    let n = 0;
    const range = { start: 0, end: 127 };
    const chunk = (kind: 'base' | 'delta'): StateChunk => ({ kind, range, entries: [[new TextEncoder().encode(`${kind}-${++n}`), null]] });
    return { keyGroupRange: range, snapshotDelta: () => [chunk('delta')], snapshotBase: () => chunk('base'), restoreChunks: () => {}, applyChunks: () => {} };
  }

  it('never appends the delta of an older checkpoint to the chain a newer base started', async () => {
    const storage = new MemoryStorage();
    // Uploads of checkpoint 2 hang until released: its checkpoint times out, 3 is taken meanwhile.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const put = storage.put.bind(storage);
    storage.put = async (key, data) => {
      if (/-2-delta-/.test(key)) await held;
      return put(key, data);
    };
    const acks = new Map<number, SubtaskAck>();
    const arrived: Array<() => void> = [];
    const sink = {
      ack: (id: number, _task: string, ack: SubtaskAck) => {
        acks.set(id, ack);
        for (const wake of arrived.splice(0)) wake();
      },
      decline: () => {},
    };
    const untilAck = async (id: number) => {
      while (!acks.has(id)) await new Promise<void>((resolve) => arrived.push(resolve));
      return acks.get(id)!.operators[0].keyed[0].chain.map((c) => c.id.replace(/-[0-9a-f]{8}$/, ''));
    };
    const codec = { encode: (c: StateChunk) => c.entries[0][0], decode: () => ({}) as StateChunk };
    const checkpoints = new WorkerCheckpoints(storage, codec, sink);
    const subtask = { task: { id: 0, operators: [{ uid: 'sum' }] }, subtaskIndex: 0 } as unknown as Subtask;
    const backend = fakeBackend();
    const parts = { operators: [{ uid: 'sum', state: null, keyedState: backend as unknown as KeyedStateBackend }] };

    checkpoints.onSnapshot(subtask, 1, parts);
    expect(await untilAck(1)).toEqual(['sum-0-127-1-base']);
    checkpoints.onSnapshot(subtask, 2, parts);
    // The upload of 2 is still running: 3 cannot build on it and writes a new base.
    checkpoints.onSnapshot(subtask, 3, parts);
    expect(await untilAck(3)).toEqual(['sum-0-127-3-base']);
    release();
    await untilAck(2);
    checkpoints.onSnapshot(subtask, 4, parts);
    // 2's delta holds changes from before 3's base: applied after it, it would roll keys back.
    expect(await untilAck(4)).toEqual(['sum-0-127-3-base', 'sum-0-127-4-delta']);
  });
});

describe('WorkerCheckpoints: a new base only where the checkpoint is known not to end the job', () => {
  /** A worker with maxDeltas 2 over one keyed backend; `take(id)` snapshots and resolves with the chain's kinds. */
  function worker() {
    const acks = new Map<number, SubtaskAck>();
    const arrived: Array<() => void> = [];
    const sink = {
      ack: (id: number, _task: string, ack: SubtaskAck) => {
        acks.set(id, ack);
        for (const wake of arrived.splice(0)) wake();
      },
      decline: () => {},
    };
    const range = { start: 0, end: 127 };
    let n = 0;
    const chunk = (kind: 'base' | 'delta'): StateChunk => ({ kind, range, entries: [[new TextEncoder().encode(`${kind}-${++n}`), null]] });
    const backend = { keyGroupRange: range, snapshotDelta: () => [chunk('delta')], snapshotBase: () => chunk('base'), restoreChunks: () => {}, applyChunks: () => {} };
    const codec = { encode: (c: StateChunk) => c.entries[0][0], decode: () => ({}) as StateChunk };
    const checkpoints = new WorkerCheckpoints(new MemoryStorage(), codec, sink, { maxDeltas: 2, maxDeltaBytesRatio: 1_000 });
    const subtask = { task: { id: 0, operators: [{ uid: 'sum' }] }, subtaskIndex: 0 } as unknown as Subtask;
    const parts = { operators: [{ uid: 'sum', state: null, keyedState: backend as unknown as KeyedStateBackend }] };
    const take = async (id: number) => {
      checkpoints.onSnapshot(subtask, id, parts);
      while (!acks.has(id)) await new Promise<void>((resolve) => arrived.push(resolve));
      return acks.get(id)!.operators[0].keyed[0].chain.map((c) => c.kind);
    };
    return { checkpoints, take };
  }

  it('a due chain waits for a barrier whose trigger has not reached this worker, and for a stop checkpoint; it rebases on a known regular one', async () => {
    const w = worker();
    for (const id of [1, 2, 3]) w.checkpoints.noteTrigger(id, false);
    expect(await w.take(1)).toEqual(['base']);
    expect(await w.take(2)).toEqual(['base', 'delta']);
    expect(await w.take(3)).toEqual(['base', 'delta', 'delta']);
    // Due now. The barrier of 4 came before its trigger: a delta (4 may be a stop checkpoint).
    expect(await w.take(4)).toEqual(['base', 'delta', 'delta', 'delta']);
    // A stop checkpoint: never a new base.
    w.checkpoints.noteTrigger(5, true);
    expect(await w.take(5)).toEqual(['base', 'delta', 'delta', 'delta', 'delta']);
    w.checkpoints.noteTrigger(6, false);
    expect(await w.take(6)).toEqual(['base']);
  });

  it('a chain twice the policy long gets its base even before the trigger arrives (never unbounded)', async () => {
    const w = worker();
    expect(await w.take(1)).toEqual(['base']);
    for (let id = 2; id <= 5; id++) await w.take(id);
    expect(await w.take(6)).toEqual(['base']);
  });
});
