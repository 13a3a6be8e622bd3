// Builders of checkpoint metadata for tests: realistic chains with bases, deltas and inline state.
import type { CheckpointMetadata, ChunkRef, KeyGroupChain } from '../../../src/checkpoint/types.ts';

export function chunk(id: string, kind: ChunkRef['kind'] = 'delta', bytes = 100, entries = 10): ChunkRef {
  return { id, kind, bytes, entries };
}

/** A chain over `[start, end]` made of the given chunk ids; the first is the base. */
export function chain(start: number, end: number, ...ids: string[]): KeyGroupChain {
  return { range: { start, end }, chain: ids.map((id, i) => chunk(id, i === 0 ? 'base' : 'delta')) };
}

/** Metadata of checkpoint `id` for one keyed operator 'count' at parallelism 2 over 128 key groups. */
export function makeMetadata(id: number, chains: readonly KeyGroupChain[] = [chain(0, 63, `b-${id}`), chain(64, 127, `c-${id}`)], overrides: Partial<CheckpointMetadata> = {}): CheckpointMetadata {
  return {
    jobId: 'orders',
    checkpointId: id,
    triggeredAt: 1_700_000_000_000 + id * 1000,
    completedAt: 1_700_000_000_000 + id * 1000 + 250.5,
    maxParallelism: 128,
    operators: [
      {
        uid: 'source',
        parallelism: 2,
        keyed: [],
        subtasks: [
          { subtaskIndex: 0, state: { splits: [{ id: 'part-0', offset: 42 }], done: false } },
          { subtaskIndex: 1, state: null },
        ],
      },
      { uid: 'count', parallelism: 2, keyed: chains, subtasks: [] },
    ],
    exclusiveFiles: [`channel-state.0`, 'op-sink.txn-1'],
    ...overrides,
  };
}
