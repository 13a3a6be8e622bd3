// The restored layer: entries of a delta applied at a handover's stage 2, visible at once, written to LMDB in the background.
import { StateKindConflictError } from '../errors.ts';
import { ChunkCorruptError } from '../snapshot/errors.ts';
import type { ChunkEntries } from '../snapshot/delta-chunk.ts';
import type { KeyGroupRange, StateKind } from '../types.ts';
import { bytesToBinaryString, decodeStateTableRow, isStateTableKey, u16BinaryString } from './key-codec.ts';
import { type Bytes, type Change, keyGroupOf } from './overlay.ts';
import type { StateTable } from './state-table.ts';

/** Entries taken for one flush transaction; `ends[j]`: where the cursor goes once change j is written. */
export interface FlushBatch {
  readonly changes: Change[];
  readonly ends: number[];
  readonly until: number;
}

/**
 * Entries restored from checkpoint chunks that LMDB does not hold yet, by binary LMDB key: the
 * value bytes (views of the downloaded chunk) or null for a deletion. It sits between the
 * write-back overlay and LMDB: reads see overlay, then this layer, then LMDB.
 *
 * Unlike the overlay it is not part of the next delta: its entries come from chunks the
 * checkpoint chain already references, so a checkpoint taken while they are still here is exact
 * without them (see SnapshotWriter). An entry leaves the layer when it is written to LMDB (a
 * flush slice) or when a newer write of the same key reaches LMDB from the overlay (superseded).
 * Nothing here is durable: after a crash, state is rebuilt from the checkpoint.
 */
export class RestoredLayer {
  private readonly entries = new Map<string, Bytes | null>();
  /** Every key ever added since the last clear, sorted; keys that left `entries` are skipped lazily. */
  private sorted: string[] = [];
  private dirty = false;
  /** Index in `sorted` the next flush slice starts at. */
  private cursor = 0;

  get size(): number {
    return this.entries.size;
  }

  /** The restored value of a key: bytes, null for a deletion, undefined if the layer has nothing for it. */
  get(key: string): Bytes | null | undefined {
    return this.entries.get(key);
  }

  /** Whether the layer holds a live value (not a deletion) for a key. */
  hasValue(key: string): boolean {
    const v = this.entries.get(key);
    return v !== undefined && v !== null;
  }

  /** A newer write of this key reached LMDB: the restored value must not be written after it. */
  supersede(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.sorted = [];
    this.dirty = false;
    this.cursor = 0;
  }

  /** Drops the entries of a key-group range (a restore replaces that range). */
  dropRange(from: number, to: number): void {
    for (const key of this.entries.keys()) {
      const kg = keyGroupOf(key);
      if (kg >= from && kg <= to) this.entries.delete(key);
    }
  }

  /**
   * Adds the entries of validated chunks, in order (a later chunk wins), keeping only key groups
   * of `keyGroupRange`. State ids are matched by name through `table` (the chunks' table rows),
   * as a restore into LMDB does. Returns the entries applied. A chunk that names a state of
   * another kind, or an entry without a table row, throws before anything is added.
   */
  add(table: StateTable, keyGroupRange: KeyGroupRange, chunks: readonly ChunkEntries[]): number {
    const remaps = chunks.map((c) => remapOf(table, c));
    let applied = 0;
    const staged: Array<[string, Bytes | null]> = [];
    chunks.forEach((c, ci) => {
      const remap = remaps[ci];
      const bytes = c.bytes;
      for (let i = 0; i < c.count; i++) {
        const ks = c.keyStart[i];
        const kg = (bytes[ks] << 8) | bytes[ks + 1];
        if (kg < keyGroupRange.start || kg > keyGroupRange.end) continue; // another subtask's, or a table row
        const id = (bytes[ks + 2] << 8) | bytes[ks + 3];
        const ours = remap.get(id);
        if (ours === undefined) throw new ChunkCorruptError(undefined, `entry of state id ${id} without a state table row`);
        let key = bytesToBinaryString(bytes, ks, c.keyEnd[i]);
        if (ours !== id) key = key.slice(0, 2) + u16BinaryString(ours) + key.slice(4);
        const vs = c.valueStart[i];
        staged.push([key, vs < 0 ? null : bytes.subarray(vs, c.valueEnd[i])]);
        applied++;
      }
    });
    // Chunks hold their entries sorted and chains come in key-group order: the keys usually arrive
    // in order, and a sort (≈10 ms per 20 000 keys, in the first flush slice) is needed only if not.
    const sorted = this.sorted;
    for (const [key, value] of staged) {
      if (!this.entries.has(key)) {
        if (sorted.length > 0 && key <= sorted[sorted.length - 1]) this.dirty = true;
        sorted.push(key);
      }
      this.entries.set(key, value);
    }
    return applied;
  }

  /**
   * Keys in `[start, end)` (end undefined: to the end) the layer holds now, sorted; with a
   * value or a deletion.
   */
  keysIn(start: string, end: string | undefined): string[] {
    const sorted = this.ordered();
    const out: string[] = [];
    for (let i = lowerBound(sorted, start); i < sorted.length; i++) {
      const k = sorted[i];
      if (end !== undefined && k >= end) break;
      if (this.entries.has(k)) out.push(k);
    }
    return out;
  }

  /** The layer's entries of key groups `[from, to]`, unsorted. */
  changesIn(from: number, to: number): Change[] {
    const out: Change[] = [];
    for (const [key, value] of this.entries) {
      const kg = keyGroupOf(key);
      if (kg >= from && kg <= to) out.push([key, value]);
    }
    return out;
  }

  /**
   * The next entries to write, in key order (LMDB takes sorted puts fastest), at most `max`.
   * They stay in the layer until {@link flushed} confirms their write transaction committed.
   */
  nextBatch(max: number): FlushBatch {
    const sorted = this.ordered();
    const changes: Change[] = [];
    const ends: number[] = [];
    let i = this.cursor;
    for (; i < sorted.length && changes.length < max; i++) {
      const value = this.entries.get(sorted[i]);
      if (value === undefined) continue;
      changes.push([sorted[i], value]);
      ends.push(i + 1);
    }
    return { changes, ends, until: i };
  }

  /** The first `written` changes of a batch from {@link nextBatch} are in LMDB now. */
  flushed(batch: FlushBatch, written = batch.changes.length): void {
    for (let j = 0; j < written; j++) {
      const [key, value] = batch.changes[j];
      // Superseded meanwhile? Then it is gone already; a re-added key has a new value: keep it.
      if (this.entries.get(key) === value) this.entries.delete(key);
    }
    this.cursor = written === batch.changes.length ? batch.until : written === 0 ? this.cursor : batch.ends[written - 1];
    if (this.entries.size === 0) this.clear();
  }

  private ordered(): string[] {
    if (this.dirty) {
      // Re-added keys may be listed twice; the set removes duplicates. Sorting restarts the cursor.
      this.sorted = [...new Set(this.sorted)].filter((k) => this.entries.has(k)).sort();
      this.dirty = false;
      this.cursor = 0;
    }
    return this.sorted;
  }
}

/** Per chunk: its state id → ours, registering its states by name (a kind conflict throws). */
function remapOf(table: StateTable, c: ChunkEntries): Map<number, number> {
  const remap = new Map<number, number>();
  const rows: Array<{ id: number; name: string; kind: StateKind }> = [];
  // Table rows (key group 0xFFFF) sort last.
  for (let i = c.count - 1; i >= 0; i--) {
    const key = c.bytes.subarray(c.keyStart[i], c.keyEnd[i]);
    if (!isStateTableKey(key)) break;
    if (c.valueStart[i] < 0) throw new ChunkCorruptError(undefined, 'a state table row is a tombstone');
    rows.push(decodeStateTableRow(key, c.bytes.subarray(c.valueStart[i], c.valueEnd[i])));
  }
  for (const { name, kind } of rows) {
    const known = table.get(name);
    if (known !== undefined && known.kind !== kind) throw new StateKindConflictError(name, known.kind, kind, true);
  }
  for (const { id, name, kind } of rows) remap.set(id, table.register(name, kind).id);
  return remap;
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
