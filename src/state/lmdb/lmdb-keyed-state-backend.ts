// Keyed state in an LMDB named database, fronted by a write-back overlay that is also the change log for incremental snapshots.
import { BatonInternalError } from '../../errors/index.ts';
import { NoCurrentKeyError, StateBackendDisposedError } from '../errors.ts';
import type { Database, RootDatabase } from 'lmdb';
import { keyGroupFor } from '../key-groups.ts';
import type { ChunkEntries, DeltaChunk } from '../snapshot/delta-chunk.ts';
import type { KeyedStateBackend, KeyGroupRange, KeyValue, ListState, MapState, StateKind, StateSnapshotFilter, ValueState } from '../types.ts';
import { dbsInUse, openStateDb, openStateEnvironment } from './environment.ts';
import { encodeKeyBinary, MAX_KEY_BYTES, u16BinaryString } from './key-codec.ts';
import { countLiveKeys, mergedMapEntries, storedMapKeys } from './merged-reads.ts';
import type { Bytes, StateInfo } from './overlay.ts';
import { type LmdbKeyedStateBackendOptions, validateOptions } from './options.ts';
import { BackgroundFlush, type RestoredFlushStats } from './background-flush.ts';
import { RestoredLayer } from './restored-layer.ts';
import { restoreChunks, restoreEncodedChunks } from './restore.ts';
import { type KeyedStateSnapshot, SnapshotWriter } from './snapshot-writer.ts';
import { LmdbListState, LmdbMapState, LmdbValueState } from './state-handles.ts';
import { StateTable } from './state-table.ts';

export type { RestoredFlushMode, RestoredFlushStats } from './background-flush.ts';
export { openStateEnvironment } from './environment.ts';
export { StateFlushError } from './errors.ts';
export type { LmdbKeyedStateBackendOptions } from './options.ts';
export type { KeyedStateSnapshot } from './snapshot-writer.ts';

/*
 * Design
 * - LMDB key: [keyGroup u16][stateId u16][user key][map key] (see key-codec.ts), handled as a
 *   binary string (one char per byte) through a custom lmdb key encoder, so no Buffer is made
 *   per key. Value: msgpackr bytes; a ListState value is the concatenation of its elements'
 *   encodings.
 * - Every write since the last snapshot sits in a per-state JS overlay (overlay.ts) keyed by the
 *   user key itself (a Map, so keys compare exactly as in the heap backend: 0 and -0 alike, 1
 *   and '1' apart), holding the DECODED value (a list as an array) or TOMBSTONE for a deletion.
 *   Reads look there first, then decode from LMDB (clean values are never cached: the overlay is
 *   exactly the set of changed keys). The hot path therefore costs a Map.get and a Map.set;
 *   values are encoded, and LMDB keys built, only when they leave the overlay: at snapshot,
 *   spill or fullSnapshot time (snapshot-writer.ts).
 * - The overlay is the dirty set: a snapshot encodes and sorts it into one delta chunk per
 *   changed key-group range and flushes it into LMDB in one synchronous write transaction.
 * - If the overlay outgrows `maxOverlayEntries` between snapshots it is flushed early and only
 *   the flushed keys are remembered, so memory stays bounded without losing the delta.
 * - A handover's stage 2 applies the target's delta to the restored layer (restored-layer.ts),
 *   between the overlay and LMDB, as encoded bytes by LMDB key: visible at once, written to LMDB
 *   by a background flush in short transactions (background-flush.ts), and not part of the next
 *   delta (the checkpoint chain already references the chunks it came from). A write of the same
 *   key reaching LMDB from the overlay supersedes the restored entry.
 */

function noCurrentKey(): never {
  throw new NoCurrentKeyError();
}

function tooLong(bytes: number): never {
  throw new RangeError(`state key of ${bytes} bytes exceeds LMDB's limit of ${MAX_KEY_BYTES} bytes: use a shorter key`);
}

/** Whether a key can encode to more than a few hundred bytes (the only ones worth measuring). */
function mayBeLong(key: KeyValue): boolean {
  return typeof key === 'string' ? key.length > 256 : typeof key === 'bigint';
}

/**
 * Keyed state of one operator subtask in an LMDB named database, with incremental snapshots.
 *
 * Value semantics: a value written since the last snapshot (or overlay spill) lives decoded in
 * the write-back overlay, so reading it returns the very object that was written, as the heap
 * backend does; `ListState.get()` of such a key returns the overlay's array (do not mutate it).
 * A snapshot encodes the overlay with msgpackr, capturing values as they are at the snapshot
 * call; afterwards reads decode fresh copies from LMDB until the key is written again. So
 * mutating a read value in place without `update()` may or may not persist: always `update()`.
 *
 * Other differences from the heap backend: values are serialized with msgpackr (a `Buffer`
 * value may come back as a `Uint8Array` once it went through LMDB); MapState iterates in encoded map-key order
 * (false, true, numbers ascending, bigints, strings by UTF-8 bytes) rather than insertion order,
 * and its map keys must be string, number, bigint or boolean; a key outside the key-group range
 * throws; a state key is limited to 1978 encoded bytes.
 *
 * @example
 * const env = openStateEnvironment(dir);
 * const b = new LmdbKeyedStateBackend({ env, dbName: 'op-1/0', keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128 });
 * b.setCurrentKey('user-1');
 * b.valueState<number>('count').update(1);
 * const { chunks } = b.snapshot(); // one delta chunk holding that entry
 */
export class LmdbKeyedStateBackend implements KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  /** The key-group ranges that snapshot chunks cover, in order. */
  readonly chunkRanges: readonly KeyGroupRange[];

  /** @internal */
  readonly db: Database<Bytes, string>;
  /** @internal Bumped when the current key changes, so cached encodings go stale. */
  keyVersion = 0;

  private key: KeyValue | undefined;
  private checkedVersion = -1;
  private keyGroup = 0;
  private longKey = false;
  private encodedVersion = -1;
  /** Key group and encoded user key of the current key, as binary-string key parts. */
  private keyGroupChars = '';
  private userKeyChars = '';
  private readonly env: RootDatabase;
  private readonly ownsEnv: boolean;
  private readonly dbName: string;
  private readonly retain: boolean;
  private readonly table: StateTable;
  private readonly writer: SnapshotWriter;
  private readonly restored = new RestoredLayer();
  private readonly flush: BackgroundFlush;
  private disposed = false;

  constructor(options: LmdbKeyedStateBackendOptions) {
    const { keyGroupRange, maxParallelism, chunkRanges, maxOverlayEntries, dbName, retain, restoredFlush, flushSliceMs } = validateOptions(options);
    this.keyGroupRange = keyGroupRange;
    this.maxParallelism = maxParallelism;
    this.chunkRanges = chunkRanges;
    this.retain = retain;

    this.ownsEnv = typeof options.env === 'string';
    this.env = typeof options.env === 'string' ? openStateEnvironment(options.env) : options.env;
    this.dbName = dbName;
    let inUse = dbsInUse.get(this.env);
    if (inUse?.has(dbName)) {
      if (this.ownsEnv) void this.env.close();
      throw new BatonInternalError(`LMDB database "${dbName}" is already used by a live backend: dispose it first`);
    }
    if (inUse === undefined) {
      inUse = new Set();
      dbsInUse.set(this.env, inUse);
    }
    inUse.add(dbName);

    try {
      this.db = openStateDb(this.env, dbName);
      this.table = new StateTable(this.db);
      if (this.retain) this.table.load();
      else this.db.clearSync();
    } catch (e) {
      inUse.delete(dbName);
      if (this.ownsEnv) void this.env.close();
      throw e;
    }
    this.writer = new SnapshotWriter(this.db, this.table, keyGroupRange, chunkRanges, maxParallelism, maxOverlayEntries, this.restored);
    this.flush = new BackgroundFlush(this.db, dbName, this.restored, restoredFlush, flushSliceMs, () => this.writer.flushEpoch++);
  }

  setCurrentKey(key: KeyValue): void {
    // Re-setting the same key (the common case for consecutive records) keeps the cached
    // checks and encodings. -0 after 0 keeps them too, which is right: both are one key.
    if (key !== this.key) this.keyVersion++;
    this.key = key;
  }

  getCurrentKey(): KeyValue {
    const key = this.key;
    if (key === undefined) noCurrentKey();
    return key;
  }

  valueState<T>(name: string): ValueState<T> {
    return this.state(name, 'value').handle as ValueState<T>;
  }

  mapState<UK, UV>(name: string): MapState<UK, UV> {
    return this.state(name, 'map').handle as unknown as MapState<UK, UV>;
  }

  listState<T>(name: string): ListState<T> {
    return this.state(name, 'list').handle as ListState<T>;
  }

  /** Leaves values of state `name` out of {@link fullSnapshot} when `filter` says so (deltas keep everything). */
  setSnapshotFilter(name: string, filter: StateSnapshotFilter): void {
    this.writer.filters.set(name, filter);
  }

  /**
   * Number of keys holding any state. Cost: a scan that decodes every entry of the key-group
   * range, plus the overlay, into a Set of distinct keys (≈0.7 s per million entries): for
   * metrics and tests, not for per-record use.
   *
   * @example
   * metrics.gauge('keys', backend.keyCount());
   */
  keyCount(): number {
    if (this.disposed) return 0;
    return countLiveKeys(this.db, this.table, this.keyGroupRange, this.restored);
  }

  /**
   * Takes an incremental snapshot: per chunk range that changed, a delta chunk with exactly the
   * entries written or deleted since the previous snapshot (a key created and deleted in between
   * leaves nothing), plus the state table rows of the states it touches. Then flushes the
   * overlay into LMDB in one write transaction. Nothing changed → no chunks.
   *
   * @example
   * const { chunks } = backend.snapshot();
   * for (const { range, chunk } of chunks) await upload(range, encodeChunk(chunk));
   */
  snapshot(): KeyedStateSnapshot {
    this.checkOpen();
    this.checkFlush();
    return this.writer.snapshot();
  }

  /**
   * A base chunk of every live entry of `range` (default: the whole key-group range), overlay
   * included. Take it right after {@link snapshot} to start a new chain at the same point.
   *
   * @example
   * backend.snapshot();
   * const base = backend.fullSnapshot(backend.chunkRanges[0]);
   */
  fullSnapshot(range: KeyGroupRange = this.keyGroupRange): DeltaChunk {
    this.checkOpen();
    this.checkFlush();
    return this.writer.fullSnapshot(range);
  }

  /**
   * Replaces the state of this backend's key-group range with what `chunks` rebuild, applied in
   * order (a base, then its deltas; several chains may follow each other). Entries of key groups
   * outside this backend's range are skipped, which is how a rescaled job picks its share out
   * of the old ranges' chunks. State ids are matched by name, so chunks of other subtasks with
   * other ids restore correctly. One write transaction: on error nothing changes. The chunks'
   * ranges need not match {@link chunkRanges}; start new chains with {@link fullSnapshot} then.
   *
   * @example
   * backend.restore(chain.map((ref) => decodeChunk(read(ref.id), ref.id)));
   */
  restore(chunks: readonly DeltaChunk[]): void {
    this.checkOpen();
    this.beforeDirectWrite(this.keyGroupRange);
    restoreChunks(this.db, this.table, this.keyGroupRange, chunks, this.keyGroupRange);
    this.writer.reset();
  }

  /**
   * Restores (or, with `clear` null, applies on top) straight from validated chunk bytes: the
   * fast path of a restore, with no decoded entries. `clear` defaults to the whole range.
   *
   * @example
   * backend.restoreEncoded(downloads.map((d) => readChunkEntries(d.bytes, d.id)));
   */
  restoreEncoded(chunks: readonly ChunkEntries[], clear: KeyGroupRange | null = this.keyGroupRange): void {
    this.checkOpen();
    this.beforeDirectWrite(clear);
    restoreEncodedChunks(this.db, this.table, this.keyGroupRange, chunks, clear);
    this.writer.reset();
  }

  /**
   * Applies delta chunks on top of the current state through the restored layer: visible at
   * once, written to LMDB in the background in short transactions (`flushSliceMs` each) between
   * turns of the event loop, and NOT part of the next snapshot's delta: the caller's checkpoint
   * chain must already reference these chunks (a handover's stage 2 continues the target's
   * chain). For the blocking part of a handover, whose cost should follow the delta, not the
   * state. Returns the entries applied. Unflushed overlay writes are spilled first (the chunks
   * are newer). See {@link whenRestoredFlushed}.
   *
   * @example
   * backend.applyToOverlay([readChunkEntries(bytes, id)]);
   */
  applyToOverlay(chunks: readonly ChunkEntries[]): number {
    this.checkOpen();
    this.checkFlush();
    this.writer.spill();
    const applied = this.restored.add(this.table, this.keyGroupRange, chunks);
    this.writer.flushEpoch++;
    if (this.restored.size > 0) this.flush.start();
    return applied;
  }

  /**
   * Resolves once every restored entry is in LMDB (at once if none is pending); rejects with
   * {@link StateFlushError} if writing failed, or if the backend was disposed first.
   *
   * @example
   * backend.applyToOverlay(delta);
   * await backend.whenRestoredFlushed();
   */
  whenRestoredFlushed(): Promise<void> {
    return this.flush.whenFlushed();
  }

  /** Restored entries not yet written to LMDB. @example if (backend.restoredPending() === 0) ... */
  restoredPending(): number {
    return this.restored.size;
  }

  /** What the background flush cost so far. @example backend.restoredFlushStats().maxSliceMs */
  restoredFlushStats(): RestoredFlushStats {
    return this.flush.stats();
  }

  /**
   * One flush transaction now (with `restoredFlush: 'manual'`, the only way restored entries
   * reach LMDB); at most `maxEntries`. Returns whether entries remain.
   *
   * @example
   * while (backend.flushRestoredSlice(100)) processSomeRecords();
   */
  flushRestoredSlice(maxEntries?: number): boolean {
    this.checkOpen();
    return this.flush.slice(maxEntries);
  }

  /**
   * Applies chunks on top of the current state, in order (deltas of a chain already restored);
   * with `clear`, that key-group range is emptied first. One write transaction, like {@link restore}.
   *
   * @example
   * backend.apply([nextDelta]); // follow a running job's checkpoint
   */
  apply(chunks: readonly DeltaChunk[], clear?: KeyGroupRange): void {
    this.checkOpen();
    this.beforeDirectWrite(clear ?? null);
    restoreChunks(this.db, this.table, this.keyGroupRange, chunks, clear ?? null);
    this.writer.reset();
  }

  /**
   * Releases the named database: dropped (deleted and closed) by default, only closed with
   * `retain`. An environment passed in stays open; one opened from a path is closed.
   *
   * @example
   * backend.dispose();
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.flush.stop();
    this.restored.clear();
    this.writer.reset();
    this.key = undefined;
    this.keyVersion++;
    this.table.clear();
    dbsInUse.get(this.env)?.delete(this.dbName);
    try {
      // Dropping deletes and closes the named db in one go; closing a dropped db would throw.
      if (this.retain) void this.db.close();
      else this.db.dropSync();
    } catch {
      // The environment was closed before this backend: nothing is left to release.
    }
    if (this.ownsEnv) void this.env.close();
  }

  // ---- internals used by the state handles -------------------------------------------------

  /**
   * @internal The current key, checked once per key change: set, not disposed, in this
   * backend's key-group range, short enough for LMDB.
   */
  currentKey(): KeyValue {
    if (this.checkedVersion !== this.keyVersion) this.checkCurrentKey();
    return this.key as KeyValue;
  }

  /** @internal The binary-string LMDB key prefix of the current key in one state. */
  currentPrefix(idChars: string): string {
    if (this.encodedVersion !== this.keyVersion) {
      const key = this.currentKey();
      this.keyGroupChars = u16BinaryString(this.keyGroup);
      this.userKeyChars = encodeKeyBinary(key);
      this.encodedVersion = this.keyVersion;
    }
    return this.keyGroupChars + idChars + this.userKeyChars;
  }

  /** @internal Throws if a map key would make the current key's LMDB key too long. */
  checkMapKeyLength(mapKey: KeyValue): void {
    if (!this.longKey && !mayBeLong(mapKey)) return;
    const length = this.currentPrefix('\0\0').length + encodeKeyBinary(mapKey).length;
    if (length > MAX_KEY_BYTES) tooLong(length);
  }

  /** @internal Stored value of a key (restored layer, then LMDB), in a buffer that the next read may overwrite. */
  readStored(k: string): Bytes | undefined {
    if (this.restored.size !== 0) {
      const r = this.restored.get(k);
      if (r !== undefined) return r === null ? undefined : r;
    }
    return this.db.getBinaryFast(k);
  }

  /** @internal Counts a new overlay entry, spilling the overlay when it is full. */
  addedOverlayEntry(): void {
    this.writer.addedOverlayEntry();
  }

  /**
   * @internal Live entries of the current key's map, in key order: an LMDB prefix scan merged
   * with the overlay (overlay wins, tombstones hide). Values are decoded (overlay values as they
   * are) or undefined unless asked for. The key is captured now, as a heap Map iterator would,
   * not when iteration starts.
   */
  mapEntries(info: StateInfo, withValues: boolean): Generator<[mapKey: KeyValue, value: unknown]> {
    const userKey = this.currentKey();
    return mergedMapEntries(this.db, info, userKey, this.currentPrefix(info.idChars), withValues, this.writer, this.restored);
  }

  /** @internal Map keys of the current key's map stored in LMDB or the restored layer (overlay not applied). */
  storedMapKeys(idChars: string): KeyValue[] {
    return storedMapKeys(this.db, this.currentPrefix(idChars), this.restored);
  }

  // ---- private -------------------------------------------------------------------------------

  private checkCurrentKey(): void {
    if (this.disposed) throw new StateBackendDisposedError();
    const key = this.key;
    if (key === undefined) noCurrentKey();
    const kg = keyGroupFor(key, this.maxParallelism);
    if (kg < this.keyGroupRange.start || kg > this.keyGroupRange.end) {
      throw new RangeError(
        `key ${String(key)} is in key group ${kg}, outside this backend's range [${this.keyGroupRange.start}, ${this.keyGroupRange.end}]`,
      );
    }
    this.keyGroup = kg;
    this.longKey = mayBeLong(key);
    if (this.longKey) {
      const length = 4 + encodeKeyBinary(key).length;
      if (length > MAX_KEY_BYTES) tooLong(length);
    }
    this.checkedVersion = this.keyVersion;
  }

  private checkOpen(): void {
    if (this.disposed) throw new StateBackendDisposedError();
  }

  /** A background flush that failed fails the next snapshot, loudly (reads are still right). */
  private checkFlush(): void {
    const failure = this.flush.failed();
    if (failure) throw failure;
  }

  /**
   * A restore or apply writes LMDB directly: restored entries of the range it clears are dropped,
   * the others written first, so that nothing older shadows what it writes.
   */
  private beforeDirectWrite(clear: KeyGroupRange | null): void {
    if (this.restored.size === 0) return;
    if (clear) this.restored.dropRange(clear.start, clear.end);
    this.checkFlush();
    this.flush.drain();
  }

  private state(name: string, kind: StateKind): StateInfo {
    const existing = this.table.get(name);
    if (existing?.handle !== undefined && existing.kind === kind) return existing;
    if (existing === undefined && this.disposed) {
      throw new StateBackendDisposedError(name);
    }
    const info = this.table.register(name, kind);
    if (info.handle === undefined) {
      switch (kind) {
        case 'value':
          info.handle = new LmdbValueState<unknown>(this, info);
          break;
        case 'map':
          info.handle = new LmdbMapState<KeyValue, unknown>(this, info);
          break;
        case 'list':
          info.handle = new LmdbListState<unknown>(this, info);
          break;
      }
    }
    return info;
  }
}
