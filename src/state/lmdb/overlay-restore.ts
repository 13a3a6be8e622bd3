// Stage 2 of a handover into the write-back overlay: a delta made visible in memory, written to LMDB later.
import type { ChunkEntries } from '../snapshot/delta-chunk.ts';
import type { KeyGroupRange, StateKind } from '../types.ts';
import { decodeStateKey, decodeStateTableRow, isStateTableKey } from './key-codec.ts';
import { packr, type StateInfo, TOMBSTONE } from './overlay.ts';
import type { StateTable } from './state-table.ts';

/**
 * Puts delta chunks into the overlay as if the job had just written them: reads see them at once
 * and the next snapshot writes them to LMDB (and into that checkpoint's delta, harmlessly again).
 * A random LMDB put costs several µs and more as the tree grows; an overlay entry costs a decode,
 * so the blocking part of a handover grows with the delta only. `added` counts new overlay
 * entries, which may make the backend spill early as with any write.
 */
export function applyChunksToOverlay(table: StateTable, keyGroupRange: KeyGroupRange, chunks: readonly ChunkEntries[], added: () => void): number {
  let applied = 0;
  for (const c of chunks) {
    const bytes = c.bytes;
    const ours = new Map<number, StateInfo>();
    for (let i = c.count - 1; i >= 0; i--) {
      const key = bytes.subarray(c.keyStart[i], c.keyEnd[i]);
      if (!isStateTableKey(key)) break;
      if (c.valueStart[i] < 0) throw new Error('corrupt chunk: a state table row is a tombstone');
      const row = decodeStateTableRow(key, bytes.subarray(c.valueStart[i], c.valueEnd[i]));
      ours.set(row.id, register(table, row.name, row.kind));
    }
    for (let i = 0; i < c.count; i++) {
      const ks = c.keyStart[i];
      const kg = (bytes[ks] << 8) | bytes[ks + 1];
      if (kg < keyGroupRange.start || kg > keyGroupRange.end) continue;
      const { stateId, userKey, mapKey } = decodeStateKey(bytes.subarray(ks, c.keyEnd[i]));
      const info = ours.get(stateId);
      if (info === undefined) throw new Error(`corrupt chunk: entry of state id ${stateId} without a state table row`);
      const vs = c.valueStart[i];
      const value = vs < 0 ? undefined : bytes.subarray(vs, c.valueEnd[i]);
      if (info.kind === 'map') {
        if (mapKey === undefined) throw new Error(`corrupt chunk: map state "${info.name}" entry without a map key`);
        let entries = info.mapOverlay.get(userKey);
        if (entries === undefined) {
          entries = new Map();
          info.mapOverlay.set(userKey, entries);
        }
        const size = entries.size;
        entries.set(mapKey, value === undefined ? TOMBSTONE : packr.unpack(value));
        if (entries.size !== size) added();
      } else {
        const size = info.overlay.size;
        const decoded = value === undefined ? TOMBSTONE : info.kind === 'list' ? packr.unpackMultiple(value) : packr.unpack(value);
        info.overlay.set(userKey, decoded);
        if (info.overlay.size !== size) added();
      }
      applied++;
    }
  }
  return applied;
}

function register(table: StateTable, name: string, kind: StateKind): StateInfo {
  const known = table.get(name);
  if (known !== undefined && known.kind !== kind) throw new Error(`cannot restore state "${name}" as ${kind} state: it is registered as ${known.kind} state`);
  return table.register(name, kind);
}
