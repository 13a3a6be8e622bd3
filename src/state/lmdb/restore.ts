// Restoring a backend's key-group range from base and delta chunks, remapping state ids by name.
import type { Database } from 'lmdb';
import type { ChunkEntries, DeltaChunk } from '../snapshot/delta-chunk.ts';
import type { KeyGroupRange, StateKind } from '../types.ts';
import { TABLE_START } from './environment.ts';
import { bytesToBinaryString, decodeStateTableRow, isStateTableKey, u16BinaryString } from './key-codec.ts';
import type { Bytes, StateInfo } from './overlay.ts';
import type { StateTable } from './state-table.ts';

/**
 * Replaces the LMDB content of `keyGroupRange` with what `chunks` rebuild (see
 * {@link LmdbKeyedStateBackend.restore}); the overlay is the caller's to reset.
 */
export function restoreChunks(
  db: Database<Bytes, string>,
  table: StateTable,
  keyGroupRange: KeyGroupRange,
  chunks: readonly DeltaChunk[],
  /** Emptied first (within `keyGroupRange`); null applies the chunks on top of what is there. */
  clear: KeyGroupRange | null,
): void {
  // Resolve every chunk's state table against ours first, so a conflict throws before any write.
  const rowsPerChunk = chunks.map((chunk) => {
    const rows: Array<{ id: number; name: string; kind: StateKind }> = [];
    const entries = chunk.entries;
    // Table rows (key group 0xFFFF) sort after every state entry.
    for (let i = entries.length - 1; i >= 0 && isStateTableKey(entries[i][0]); i--) {
      const value = entries[i][1];
      if (value === null) throw new Error('corrupt chunk: a state table row is a tombstone');
      rows.push(decodeStateTableRow(entries[i][0], value));
    }
    return rows;
  });
  const kinds = new Map<string, StateKind>();
  for (const rows of rowsPerChunk) {
    for (const { name, kind } of rows) {
      const known = table.get(name)?.kind ?? kinds.get(name);
      if (known !== undefined && known !== kind) {
        throw new Error(`cannot restore state "${name}" as ${kind} state: it is registered as ${known} state`);
      }
      kinds.set(name, kind);
    }
  }
  const remaps = rowsPerChunk.map((rows) => {
    const remap = new Map<number, StateInfo>();
    for (const { id, name, kind } of rows) remap.set(id, table.register(name, kind));
    return remap;
  });

  const { start, end } = keyGroupRange;
  db.transactionSync(() => {
    if (clear) {
      const from = Math.max(clear.start, start);
      const to = Math.min(clear.end, end);
      if (from <= to) clearRange(db, table, { start: from, end: to });
    }
    chunks.forEach((chunk, c) => {
      const remap = remaps[c];
      for (const [key, value] of chunk.entries) {
        const kg = (key[0] << 8) | key[1];
        if (kg < start || kg > end) continue; // another subtask's key group, or a table row
        const id = (key[2] << 8) | key[3];
        const ours = remap.get(id);
        if (ours === undefined) throw new Error(`corrupt chunk: entry of state id ${id} without a state table row`);
        let k = bytesToBinaryString(key);
        if (ours.id !== id) k = k.slice(0, 2) + ours.idChars + k.slice(4);
        if (value === null) db.removeSync(k);
        else db.putSync(k, value);
      }
    });
  });
}

/** Removes a key-group range from LMDB; must run inside a write transaction. */
function clearRange(db: Database<Bytes, string>, table: StateTable, { start, end }: KeyGroupRange): void {
  const outside =
    [...db.getKeys({ start: '\0\0', end: u16BinaryString(start), limit: 1 })].length +
    [...db.getKeys({ start: u16BinaryString(end + 1), end: TABLE_START, limit: 1 })].length;
  if (outside === 0) {
    // Nothing outside our range: dropping all pages is far cheaper than deleting key by key.
    db.clearSync();
    for (const info of table.values()) table.writeRow(info);
    return;
  }
  if (end < start) return;
  // Collected first: deleting under an open cursor would disturb the scan.
  const keys = [...db.getKeys({ start: u16BinaryString(start), end: u16BinaryString(end + 1) })];
  for (const key of keys) db.removeSync(key);
}

/**
 * Like {@link restoreChunks}, straight from validated chunk bytes ({@link ChunkEntries}): keys and
 * values go to LMDB as views of the downloaded bytes, with no decoded entry objects and no key
 * strings (a restore of millions of entries otherwise spends most of its time on those).
 */
export function restoreEncodedChunks(
  db: Database<Bytes, string>,
  table: StateTable,
  keyGroupRange: KeyGroupRange,
  chunks: readonly ChunkEntries[],
  clear: KeyGroupRange | null,
): void {
  // Table rows (key group 0xFFFF) sort last: read them first, so a conflict throws before any write.
  const rowsPerChunk = chunks.map((c) => {
    const rows: Array<{ id: number; name: string; kind: StateKind }> = [];
    for (let i = c.count - 1; i >= 0; i--) {
      const key = c.bytes.subarray(c.keyStart[i], c.keyEnd[i]);
      if (!isStateTableKey(key)) break;
      if (c.valueStart[i] < 0) throw new Error('corrupt chunk: a state table row is a tombstone');
      rows.push(decodeStateTableRow(key, c.bytes.subarray(c.valueStart[i], c.valueEnd[i])));
    }
    return rows;
  });
  const kinds = new Map<string, StateKind>();
  for (const rows of rowsPerChunk) {
    for (const { name, kind } of rows) {
      const known = table.get(name)?.kind ?? kinds.get(name);
      if (known !== undefined && known !== kind) {
        throw new Error(`cannot restore state "${name}" as ${kind} state: it is registered as ${known} state`);
      }
      kinds.set(name, kind);
    }
  }
  // Per chunk: its state id → ours (the same in the common case: then keys go in unchanged).
  const remaps = rowsPerChunk.map((rows) => {
    const remap = new Int32Array(0x10000).fill(-1);
    for (const { id, name, kind } of rows) remap[id] = table.register(name, kind).id;
    return remap;
  });
  const { start, end } = keyGroupRange;
  db.transactionSync(() => {
    if (clear) {
      const from = Math.max(clear.start, start);
      const to = Math.min(clear.end, end);
      if (from <= to) clearRange(db, table, { start: from, end: to });
    }
    chunks.forEach((c, ci) => {
      const remap = remaps[ci];
      const bytes = c.bytes;
      // Keys travel as byte views through the key encoder (see environment.ts); the cast is that.
      const put = db.putSync.bind(db) as unknown as (key: Uint8Array, value: Uint8Array) => void;
      const remove = db.removeSync.bind(db) as unknown as (key: Uint8Array) => void;
      for (let i = 0; i < c.count; i++) {
        const ks = c.keyStart[i];
        const kg = (bytes[ks] << 8) | bytes[ks + 1];
        if (kg < start || kg > end) continue; // another subtask's key group, or a table row
        const id = (bytes[ks + 2] << 8) | bytes[ks + 3];
        const ours = remap[id];
        if (ours < 0) throw new Error(`corrupt chunk: entry of state id ${id} without a state table row`);
        let key = bytes.subarray(ks, c.keyEnd[i]);
        if (ours !== id) {
          key = Uint8Array.from(key);
          key[2] = ours >> 8;
          key[3] = ours & 0xff;
        }
        if (c.valueStart[i] < 0) remove(key);
        else put(key, bytes.subarray(c.valueStart[i], c.valueEnd[i]));
      }
    });
  });
}
