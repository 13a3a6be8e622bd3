// Overlay lifecycle: counting and spilling writes, delta and base chunk building, flushing to LMDB.
import type { Database } from 'lmdb';
import type { DeltaChunk } from '../snapshot/delta-chunk.ts';
import type { KeyGroupRange, StateSnapshotFilter } from '../types.ts';
import { binaryStringToBytes, u16BinaryString } from './key-codec.ts';
import { type Bytes, type Change, collectOverlay, encodeList, keyGroupOf, packr, sortChanges, stateIdOf } from './overlay.ts';
import type { RestoredLayer } from './restored-layer.ts';
import type { StateTable } from './state-table.ts';

/** A delta chunk per key-group range that changed since the previous snapshot. */
export interface KeyedStateSnapshot {
  chunks: Array<{ range: KeyGroupRange; chunk: DeltaChunk }>;
}

/** Owns the overlay's bookkeeping between snapshots and turns it into chunks and LMDB writes. */
export class SnapshotWriter {
  /** Counts overlay flushes, so map iterators notice that their LMDB snapshot went stale. */
  flushEpoch = 0;
  private overlayEntries = 0;
  /** Keys flushed to LMDB early (overlay spill) since the last snapshot; they belong to the next delta. */
  private spilled: Set<string> | undefined;
  /** Snapshot filters by state name (TTL state): applied to full snapshots only. */
  readonly filters = new Map<string, StateSnapshotFilter>();

  constructor(
    private readonly db: Database<Bytes, string>,
    private readonly table: StateTable,
    private readonly keyGroupRange: KeyGroupRange,
    private readonly chunkRanges: readonly KeyGroupRange[],
    private readonly maxParallelism: number,
    private readonly maxOverlayEntries: number,
    /** Restored entries not in LMDB yet: part of the state, never of the next delta (the chain has them). */
    private readonly restored: RestoredLayer,
  ) {}

  /** Counts a new overlay entry, spilling the overlay when it is full. */
  addedOverlayEntry(): void {
    if (++this.overlayEntries >= this.maxOverlayEntries) this.spill();
  }

  /** Forgets the overlay and the spilled keys (restore, dispose). */
  reset(): void {
    this.clearOverlay();
    this.spilled = undefined;
  }

  /** See {@link LmdbKeyedStateBackend.snapshot}. */
  snapshot(): KeyedStateSnapshot {
    let changes = this.flushOverlay(true);
    const spilled = this.spilled;
    if (spilled !== undefined) {
      // Keys flushed early: their values are now LMDB's (the overlay just went there too), unless
      // a restored delta applied since then changed them again (it is newer, and not yet in LMDB).
      const seen = new Set(changes.map((c) => c[0]));
      for (const k of spilled) {
        if (seen.has(k)) continue;
        const restored = this.restored.get(k);
        changes.push([k, restored !== undefined ? restored : (this.db.getBinary(k) ?? null)]);
      }
      changes = sortChanges(changes);
      this.spilled = undefined;
    }
    const chunks: KeyedStateSnapshot['chunks'] = [];
    let i = 0;
    for (const range of this.chunkRanges) {
      const from = i;
      while (i < changes.length && keyGroupOf(changes[i][0]) <= range.end) i++;
      if (i === from) continue;
      const keys: string[] = new Array(i - from);
      const values: Array<Bytes | null> = new Array(i - from);
      for (let j = from; j < i; j++) {
        keys[j - from] = changes[j][0];
        values[j - from] = changes[j][1];
      }
      chunks.push({ range, chunk: this.chunkOf('delta', range, keys, values) });
    }
    return { chunks };
  }

  /** See {@link LmdbKeyedStateBackend.fullSnapshot}. */
  fullSnapshot(range: KeyGroupRange): DeltaChunk {
    const start = Math.max(range.start, this.keyGroupRange.start);
    const end = Math.min(range.end, this.keyGroupRange.end);
    // Restored entries not yet in LMDB, then the overlay's writes on top (they are newer).
    const byKey = new Map<string, Bytes | null>();
    if (end >= start) for (const [k, v] of this.restored.changesIn(start, end)) byKey.set(k, v);
    for (const [k, v] of collectOverlay(this.table.values(), this.maxParallelism)) {
      const kg = keyGroupOf(k);
      if (kg >= start && kg <= end) byKey.set(k, v);
    }
    const pending = sortChanges([...byKey]);
    // Parallel arrays rather than [key, value] pairs: a million-entry base makes a million fewer objects.
    const keys: string[] = [];
    const values: Bytes[] = [];
    let p = 0;
    const takePending = (): void => {
      const [k, v] = pending[p++];
      if (v === null) return; // a deletion not flushed yet
      keys.push(k);
      values.push(v);
    };
    if (end >= start) {
      for (const { key, value } of this.db.getRange({ start: u16BinaryString(start), end: u16BinaryString(end + 1) })) {
        while (p < pending.length && pending[p][0] < key) takePending();
        if (p < pending.length && pending[p][0] === key) {
          takePending(); // the overlay's version wins
        } else {
          keys.push(key);
          values.push(value);
        }
      }
    }
    while (p < pending.length) takePending();
    if (this.filters.size > 0) this.applyFilters(keys, values);
    return this.chunkOf('base', range, keys, values);
  }

  /**
   * Leaves out of a base what the snapshot filters reject (expired TTL values), in place. Only
   * entries of filtered states are decoded; a list losing some elements is encoded again.
   */
  private applyFilters(keys: string[], values: Bytes[]): void {
    const byId = new Map<number, { filter: StateSnapshotFilter; list: boolean }>();
    for (const [name, filter] of this.filters) {
      const info = this.table.get(name);
      if (info !== undefined) byId.set(info.id, { filter, list: info.kind === 'list' });
    }
    if (byId.size === 0) return;
    let out = 0;
    for (let i = 0; i < keys.length; i++) {
      const f = byId.get(stateIdOf(keys[i]));
      let value: Bytes | undefined = values[i];
      if (f !== undefined) {
        if (!f.list) {
          if (!f.filter.keep(packr.unpack(value))) value = undefined;
        } else {
          const elements = packr.unpackMultiple(value) as unknown[];
          const kept = elements.filter((e) => f.filter.keep(e));
          if (kept.length === 0) value = undefined;
          else if (kept.length < elements.length) value = encodeList(kept);
        }
      }
      if (value === undefined) continue;
      keys[out] = keys[i];
      values[out] = value;
      out++;
    }
    keys.length = out;
    values.length = out;
  }

  private clearOverlay(): void {
    for (const info of this.table.values()) {
      info.overlay.clear();
      info.mapOverlay.clear();
    }
    this.overlayEntries = 0;
    this.flushEpoch++;
  }

  /**
   * Encodes the overlay, writes it to LMDB in one transaction and empties it. Returns the changes
   * that count for a delta (sorted if asked): deletions of keys LMDB never had (created and
   * deleted since the last flush) are dropped, unless the key was spilled earlier in this interval.
   */
  private flushOverlay(sorted: boolean): Change[] {
    if (this.overlayEntries === 0) return [];
    const collected = collectOverlay(this.table.values(), this.maxParallelism);
    // Sorting is the costliest step (≈1 µs per key); LMDB takes unsorted puts nearly as fast.
    const pending = sorted ? sortChanges(collected) : collected;
    const changes: Change[] = [];
    const spilled = this.spilled;
    const db = this.db;
    const restored = this.restored;
    db.transactionSync(() => {
      for (const change of pending) {
        const [k, v] = change;
        if (v === null) {
          // A deletion counts if the key existed: in LMDB, earlier in this interval, or in a restored delta not flushed yet.
          if (db.removeSync(k) || spilled?.has(k) || restored.hasValue(k)) changes.push(change);
        } else {
          db.putSync(k, v);
          changes.push(change);
        }
      }
    });
    // This write is newer than any restored value of the same key: the background flush must not write that after it.
    if (restored.size > 0) for (const [k] of pending) restored.supersede(k);
    // Cleared only after the commit: if the transaction failed, the overlay still holds the writes.
    this.clearOverlay();
    return changes;
  }

  /** Flushes an overgrown overlay early (or before a restored delta goes on top of it), remembering its keys for the next delta. */
  spill(): void {
    if (this.overlayEntries === 0) return;
    // Unsorted: only the keys are kept, and the next snapshot sorts them with the rest.
    const changes = this.flushOverlay(false);
    const spilled = this.spilled ?? new Set<string>();
    this.spilled = spilled;
    for (const [k] of changes) spilled.add(k);
  }

  /** Builds a chunk from sorted keys and their values, plus the table rows of the states they touch. */
  private chunkOf(kind: DeltaChunk['kind'], range: KeyGroupRange, keys: string[], values: Array<Bytes | null>): DeltaChunk {
    const n = keys.length;
    const entries: DeltaChunk['entries'] = new Array(n);
    // All keys in one buffer, each entry a view of it: one native conversion instead of one
    // Buffer per key (faster for large chunks, and compact in memory).
    const joined = binaryStringToBytes(keys.join(''));
    const arena = new Uint8Array(joined.buffer, joined.byteOffset, joined.length);
    const ids = new Set<number>();
    let lastId = -1;
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      const id = stateIdOf(k);
      if (id !== lastId) {
        ids.add(id);
        lastId = id;
      }
      entries[i] = [arena.subarray(offset, offset + k.length), values[i]];
      offset += k.length;
    }
    for (const row of this.table.rowsOf(ids)) entries.push(row);
    return { kind, range: { start: range.start, end: range.end }, entries };
  }
}
