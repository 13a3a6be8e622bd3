// The keyed state backends of one worker: LMDB (default, incremental) or heap, both checkpointed in chunks.
import type { RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { HeapKeyedStateBackend } from '../../state/index.ts';
import { LmdbKeyedStateBackend, openStateEnvironment } from '../../state/index.ts';
import { compareBytes, decodeChunk, encodeChunk, type DeltaChunk } from '../../state/index.ts';
import type { ChunkedKeyedStateBackend, KeyGroupRange, KeyValue, StateChunk } from '../../state/index.ts';
import type { ChunkCodec } from './worker-checkpoints.ts';
import type { WorkerStateConfig } from './protocol.ts';

const toDelta = (chunk: StateChunk): DeltaChunk => ({ kind: chunk.kind, range: chunk.range, entries: chunk.entries.map(([k, v]) => [k, v]) });

/** The state chunk codec of the state layer, as the checkpoint code wants it. */
export const stateChunkCodec: ChunkCodec = {
  encode: (chunk) => encodeChunk(toDelta(chunk)),
  decode: (bytes, name) => decodeChunk(bytes, name),
};

/** LMDB backend seen through the chunked interface the checkpoint code uses. */
class ChunkedLmdbBackend extends LmdbKeyedStateBackend implements ChunkedKeyedStateBackend {
  snapshotDelta(): StateChunk[] {
    return this.snapshot().chunks.map((c) => c.chunk);
  }

  snapshotBase(): StateChunk {
    // The delta taken just before has already flushed every change into LMDB.
    return this.fullSnapshot();
  }

  restoreChunks(chunks: readonly StateChunk[]): void {
    this.restore(chunks.map(toDelta));
  }

  applyChunks(chunks: readonly StateChunk[], clear?: KeyGroupRange): void {
    this.apply(chunks.map(toDelta), clear);
  }
}

// Heap state has no change tracking: every checkpoint stores it whole, as one base chunk whose
// entries are msgpack-encoded [state, kind, key] → value.
// useRecords keeps Map values Maps (without it msgpackr decodes them as plain objects).
const heapPackr = new Packr({ useRecords: true, moreTypes: true, useBigIntExtension: true });

class ChunkedHeapBackend extends HeapKeyedStateBackend implements ChunkedKeyedStateBackend {
  readonly alwaysBase = true;

  snapshotDelta(): StateChunk[] {
    return [];
  }

  snapshotBase(): StateChunk {
    const entries: Array<[Uint8Array, Uint8Array]> = this.snapshotEntries({ filtered: true }).map((e) => [
      heapPackr.pack([e.keyGroup, e.state, e.kind, e.key]),
      heapPackr.pack(e.kind === 'map' ? [...(e.value as Map<unknown, unknown>)] : e.value),
    ]);
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    return { kind: 'base', range: this.keyGroupRange, entries };
  }

  applyChunks(chunks: readonly StateChunk[], clear?: KeyGroupRange): void {
    if (clear) {
      for (const e of this.snapshotEntries()) {
        if (e.keyGroup < clear.start || e.keyGroup > clear.end) continue;
        this.setCurrentKey(e.key);
        if (e.kind === 'value') this.valueState(e.state).clear();
        else if (e.kind === 'list') this.listState(e.state).clear();
        else this.mapState(e.state).clear();
      }
    }
    this.restoreChunks(chunks);
  }

  restoreChunks(chunks: readonly StateChunk[]): void {
    for (const chunk of chunks) {
      for (const [keyBytes, valueBytes] of chunk.entries) {
        const [keyGroup, state, kind, key] = heapPackr.unpack(keyBytes) as [number, string, 'value' | 'map' | 'list', KeyValue];
        if (keyGroup < this.keyGroupRange.start || keyGroup > this.keyGroupRange.end) continue;
        this.setCurrentKey(key);
        if (valueBytes === null) continue;
        const value = heapPackr.unpack(valueBytes);
        if (kind === 'value') this.valueState(state).update(value);
        else if (kind === 'list') this.listState(state).update(value as unknown[]);
        else {
          const map = this.mapState(state);
          for (const [k, v] of value as Array<[unknown, unknown]>) map.put(k, v);
        }
      }
    }
  }
}

export class WorkerStateBackends {
  private env: RootDatabase | undefined;
  readonly codec = stateChunkCodec;

  constructor(
    private readonly config: WorkerStateConfig,
    private readonly maxParallelism: number,
  ) {}

  create(uid: string, subtaskIndex: number, keyGroupRange: KeyGroupRange): ChunkedKeyedStateBackend {
    if (this.config.backend === 'heap') return new ChunkedHeapBackend({ keyGroupRange, maxParallelism: this.maxParallelism });
    this.env ??= openStateEnvironment(this.config.stateDir);
    return new ChunkedLmdbBackend({ env: this.env, dbName: `keyed/${uid}/${subtaskIndex}`, keyGroupRange, maxParallelism: this.maxParallelism });
  }

  close(): void {
    const env = this.env;
    this.env = undefined;
    void env?.close();
  }
}
