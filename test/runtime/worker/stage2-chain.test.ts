// A handover's stage 2 on a worker: B's first checkpoint references the target's delta chunk instead of storing it again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChunkRef, KeyGroupChain } from '../../../src/checkpoint/types.ts';
import type { Subtask } from '../../../src/runtime/task/subtask.ts';
import type { SubtaskAck } from '../../../src/runtime/worker/protocol.ts';
import { WorkerCheckpoints } from '../../../src/runtime/worker/worker-checkpoints.ts';
import { WorkerStateBackends } from '../../../src/runtime/worker/worker-state-backends.ts';
import type { ChunkedKeyedStateBackend } from '../../../src/state/types.ts';
import { MemoryStorage } from '../../checkpoint/memory-storage.ts';

const root = mkdtempSync(join(tmpdir(), 'baton-stage2-chain-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const RANGE = { start: 0, end: 127 };

/** A worker's backends and checkpoints over one storage; `subtask` hosts the keyed operator 'sum'. */
function worker(name: string, storage: MemoryStorage) {
  const backends = new WorkerStateBackends({ backend: 'lmdb', stateDir: join(root, name) }, 128);
  const backend = backends.create('sum', 0, RANGE);
  const acks = new Map<number, SubtaskAck>();
  const waiters: Array<() => void> = [];
  const checkpoints = new WorkerCheckpoints(storage, backends.codec, {
    ack: (id, _task, ack) => {
      acks.set(id, ack);
      for (const wake of waiters.splice(0)) wake();
    },
    decline: (id, _task, reason) => {
      throw new Error(`checkpoint ${id} declined: ${reason}`);
    },
  });
  const subtask = { task: { id: 0, operators: [{ uid: 'sum' }] }, subtaskIndex: 0, keyedStateOf: () => backend } as unknown as Subtask;
  const checkpoint = async (id: number): Promise<KeyGroupChain> => {
    checkpoints.onSnapshot(subtask, id, { operators: [{ uid: 'sum', state: null, keyedState: backend }] });
    while (!acks.has(id)) await new Promise<void>((resolve) => waiters.push(resolve));
    return acks.get(id)!.operators[0].keyed[0];
  };
  return { backend: backend as ChunkedKeyedStateBackend & { restoredPending(): number; whenRestoredFlushed(): Promise<void> }, checkpoints, subtask, checkpoint, close: () => backends.close() };
}

const write = (b: ChunkedKeyedStateBackend, from: number, to: number, value: (k: number) => number | undefined) => {
  const sum = b.valueState<number>('sum');
  for (let k = from; k < to; k++) {
    b.setCurrentKey(k);
    const v = value(k);
    if (v === undefined) sum.clear();
    else sum.update(v);
  }
};

const read = (b: ChunkedKeyedStateBackend, keys: number) => {
  const sum = b.valueState<number>('sum');
  return Array.from({ length: keys }, (_, k) => {
    b.setCurrentKey(k);
    return sum.value();
  });
};

describe('handover stage 2 on a worker', () => {
  it("B's first checkpoint continues the target's chain and uploads only what B changed", async () => {
    const storage = new MemoryStorage();
    const puts: string[] = [];
    const put = storage.put.bind(storage);
    storage.put = (key: string, data: Uint8Array) => {
      puts.push(key);
      return put(key, data);
    };
    // A: a base at checkpoint 4, the target (5) a delta of 300 keys (updates, new keys, deletions).
    const a = worker('a', storage);
    write(a.backend, 0, 1_000, (k) => k);
    const stage1 = await a.checkpoint(4);
    write(a.backend, 900, 1_200, (k) => (k % 7 === 0 ? undefined : k * 10));
    const target = await a.checkpoint(5);
    expect(target.chain.map((c) => c.kind)).toEqual(['base', 'delta']);
    const targetDelta = target.chain[1];

    // B: stage 1 from checkpoint 4, stage 2 applies the target's delta to memory.
    const b = worker('b', storage);
    await b.checkpoints.followKeyed(b.subtask, 'sum', [stage1]);
    const applied = await b.checkpoints.followKeyed(b.subtask, 'sum', [target], { overlay: true, checkpointId: 5 });
    expect(applied.chunks).toBe(1);
    expect(b.backend.restoredPending()).toBeGreaterThan(0);
    // B processes records before its first checkpoint, while the flush may still run.
    write(b.backend, 1_150, 1_250, (k) => k + 1);
    puts.length = 0;
    const first = await b.checkpoint(6);

    // The chain: A's base and the target's delta as they are, then B's own delta of 100 keys.
    expect(first.chain.slice(0, 2)).toEqual(target.chain);
    expect(first.chain).toHaveLength(3);
    const own = first.chain[2] as ChunkRef;
    expect(own.kind).toBe('delta');
    expect(own.entries).toBe(100 + 1); // B's keys and the state table row
    expect(puts.filter((k) => k.startsWith('shared/'))).toEqual([`shared/${own.id}`]);
    expect(own.bytes).toBeLessThan(targetDelta.bytes);

    // The chain restores what B holds.
    await b.backend.whenRestoredFlushed();
    const c = worker('c', storage);
    await c.checkpoints.restoreKeyed(c.subtask, 'sum', [first], 6);
    expect(read(c.backend, 1_300)).toEqual(read(b.backend, 1_300));
    for (const w of [a, b, c]) {
      w.backend.dispose();
      w.close();
    }
  });
});

