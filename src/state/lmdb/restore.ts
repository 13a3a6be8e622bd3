// Restoring a backend's key-group range from base and delta chunks, remapping state ids by name.
import { StateKindConflictError } from '../errors.ts';
import { ChunkCorruptError } from '../snapshot/errors.ts';
import type { Database } from 'lmdb';
import { type ChunkEntries, type DeltaChunk, encodeChunk, readChunkEntries } from '../snapshot/delta-chunk.ts';
import type { KeyGroupRange, StateKind } from '../types.ts';
import { TABLE_START } from './environment.ts';
import { decodeStateTableRow, isStateTableKey, u16BinaryString } from './key-codec.ts';
import type { Bytes } from './overlay.ts';
import type { StateTable } from './state-table.ts';

/**
 * Replaces the LMDB content of `keyGroupRange` with what `chunks` rebuild (see
 * {@link LmdbKeyedStateBackend.restore}); the overlay is the caller's to reset. Decoded chunks
 * take the encoded path: one implementation of the remapping and the writes.
 */
export function restoreChunks(
  db: Database<Bytes, string>,
  table: StateTable,
  keyGroupRange: KeyGroupRange,
  chunks: readonly DeltaChunk[],
  /** Emptied first (within `keyGroupRange`); null applies the chunks on top of what is there. */
  clear: KeyGroupRange | null,
): void {
  const encoded = chunks.map((chunk, i) => readChunkEntries(encodeChunk(chunk), `chunk ${i}`));
  restoreEncodedChunks(db, table, keyGroupRange, encoded, clear);
}

/**
 * Checks the state table rows of every chunk against ours (a state restored as another kind
 * throws before any write), registers them, and returns per chunk its state id → our id (-1:
 * none); the same in the common case, so keys go in unchanged.
 */
function registerChunkRows(table: StateTable, rowsPerChunk: ReadonlyArray<ReadonlyArray<{ id: number; name: string; kind: StateKind }>>): Int32Array[] {
  const kinds = new Map<string, StateKind>();
  for (const rows of rowsPerChunk) {
    for (const { name, kind } of rows) {
      const known = table.get(name)?.kind ?? kinds.get(name);
      if (known !== undefined && known !== kind) {
        throw new StateKindConflictError(name, known, kind, true);
      }
      kinds.set(name, kind);
    }
  }
  return rowsPerChunk.map((rows) => {
    const remap = new Int32Array(0x10000).fill(-1);
    for (const { id, name, kind } of rows) remap[id] = table.register(name, kind).id;
    return remap;
  });
}

/** Empties `clear` within `keyGroupRange` (null: nothing); must run inside a write transaction. */
function clearWithin(db: Database<Bytes, string>, table: StateTable, keyGroupRange: KeyGroupRange, clear: KeyGroupRange | null): void {
  if (!clear) return;
  const from = Math.max(clear.start, keyGroupRange.start);
  const to = Math.min(clear.end, keyGroupRange.end);
  if (from <= to) clearRange(db, table, { start: from, end: to });
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
      if (c.valueStart[i] < 0) throw new ChunkCorruptError(undefined, 'a state table row is a tombstone');
      rows.push(decodeStateTableRow(key, c.bytes.subarray(c.valueStart[i], c.valueEnd[i])));
    }
    return rows;
  });
  const remaps = registerChunkRows(table, rowsPerChunk);
  const { start, end } = keyGroupRange;
  db.transactionSync(() => {
    clearWithin(db, table, keyGroupRange, clear);
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
        if (ours < 0) throw new ChunkCorruptError(undefined, `entry of state id ${id} without a state table row`);
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
