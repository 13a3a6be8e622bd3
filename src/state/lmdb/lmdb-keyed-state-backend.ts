// Keyed state in an LMDB named database, fronted by a write-back overlay that is also the change log for incremental snapshots.
import { resolve } from 'node:path';
import { type Database, open, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { keyGroupFor, MAX_MAX_PARALLELISM } from '../key-groups.ts';
import type { DeltaChunk } from '../snapshot/delta-chunk.ts';
import type {
  KeyedStateBackend,
  KeyGroupRange,
  KeyValue,
  ListState,
  MapState,
  StateKind,
  ValueState,
} from '../types.ts';
import {
  binaryStringToBytes,
  bytesToBinaryString,
  decodeKey,
  decodeStateTableRow,
  encodedKeyLength,
  encodeKeyBinary,
  encodeStateTableRow,
  isStateTableKey,
  keyGroupStart,
  MAX_KEY_BYTES,
  MAX_STATE_ID,
  prefixSuccessor,
  STATE_TABLE_KEY_GROUP,
  u16BinaryString,
} from './key-codec.ts';

/*
 * Design
 * - LMDB key: [keyGroup u16][stateId u16][user key][map key] (see key-codec.ts); value: msgpackr
 *   bytes (a ListState value is the concatenation of its elements' msgpackr encodings, so add()
 *   appends bytes instead of decoding and re-encoding the list).
 * - Every write since the last snapshot lives in a JS overlay (binary-string key → bytes, or null
 *   for a tombstone); reads look there first, then in LMDB. The overlay is the dirty set: a
 *   snapshot sorts it into one delta chunk per changed key-group range and flushes it to LMDB in
 *   one synchronous write transaction. Map state entries sit in a second-level overlay per
 *   (state, user key) so that iteration merges one small sorted list with an LMDB prefix scan.
 * - If the overlay outgrows `maxOverlayEntries` between snapshots it is flushed to LMDB early and
 *   only the flushed keys are remembered, so memory stays bounded without losing the delta.
 */

// Packr rather than the module-level pack/unpack: Map, Set and typed values round-trip
// (moreTypes), bigints of any size work, and decoded binaries never alias LMDB's reused buffer.
const packr = new Packr({ moreTypes: true, useBigIntExtension: true, copyBuffers: true });

const EMPTY_LIST: readonly never[] = Object.freeze([]);
const DEFAULT_MAX_OVERLAY_ENTRIES = 500_000;
const TABLE_START = keyGroupStart(STATE_TABLE_KEY_GROUP);

/** Options of {@link LmdbKeyedStateBackend}. */
export interface LmdbKeyedStateBackendOptions {
  /** An environment from {@link openStateEnvironment} (shared, left open), or a directory to open one in (owned, closed on dispose). */
  env: RootDatabase | string;
  /** Named database of this backend: one per operator uid and subtask, e.g. `keyed/<uid>/<subtask>`. */
  dbName: string;
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  /** Key groups per snapshot chunk; the default puts the whole key-group range in one chunk. */
  keyGroupsPerChunk?: number;
  /** Overlay size (entries) beyond which writes are flushed to LMDB before the next snapshot. Default 500 000. */
  maxOverlayEntries?: number;
  /**
   * Keep what the named database already holds on open, and leave it in place on dispose (local
   * recovery, tests). Default false: the database starts empty and is dropped on dispose, so the
   * backend lives exactly as long as its heap counterpart would.
   */
  retain?: boolean;
}

/** A delta chunk per key-group range that changed since the previous snapshot. */
export interface KeyedStateSnapshot {
  chunks: Array<{ range: KeyGroupRange; chunk: DeltaChunk }>;
}

/**
 * Opens the LMDB environment of one worker: one per worker thread, shared by all its backends.
 * The environment is scratch space: state is rebuilt from checkpoints after a crash, so commits
 * skip fsync (`noSync`).
 *
 * @example
 * const env = openStateEnvironment('/var/lib/baton/worker-3');
 * const backend = new LmdbKeyedStateBackend({ env, dbName: 'keyed/agg/3', keyGroupRange, maxParallelism: 128 });
 */
export function openStateEnvironment(dir: string): RootDatabase {
  return open({ path: dir, maxDbs: 256, noSync: true, noMemInit: true, compression: false, cache: false });
}

type Bytes = Uint8Array;
/** One changed entry: binary-string key, its bytes, and the new value or null for a deletion. */
type Change = [key: string, keyBytes: Buffer, value: Bytes | null];

interface StateInfo {
  readonly name: string;
  readonly id: number;
  readonly kind: StateKind;
  /** The state id as two chars of a binary-string key. */
  readonly idChars: string;
  handle: LmdbValueState<unknown> | LmdbMapState<KeyValue, unknown> | LmdbListState<unknown> | undefined;
}

/** Databases in use by live backends, per environment path: two backends on one db would corrupt it. */
const dbsInUse = new Map<string, Set<string>>();

function envId(env: RootDatabase): string {
  const path = (env as unknown as { path?: unknown }).path;
  return typeof path === 'string' ? resolve(path) : '';
}

function noCurrentKey(): never {
  throw new Error('no current key: setCurrentKey() must be called before accessing keyed state');
}

function tooLong(bytes: number): never {
  throw new RangeError(`state key of ${bytes} bytes exceeds LMDB's limit of ${MAX_KEY_BYTES} bytes: use a shorter key`);
}

function byKey(a: Change, b: Change): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function keyGroupOf(binaryKey: string): number {
  return (binaryKey.charCodeAt(0) << 8) | binaryKey.charCodeAt(1);
}

function stateIdOf(binaryKey: string): number {
  return (binaryKey.charCodeAt(2) << 8) | binaryKey.charCodeAt(3);
}

function decodeList<T>(bytes: Bytes): T[] {
  return packr.unpackMultiple(bytes) as T[];
}

function encodeList(values: readonly unknown[]): Buffer {
  if (values.length === 1) return packr.pack(values[0]);
  return Buffer.concat(values.map((v) => packr.pack(v)));
}

/**
 * Keyed state of one operator subtask in an LMDB named database, with incremental snapshots.
 *
 * Differences from the heap backend: values are serialized with msgpackr (reads return copies;
 * `Uint8Array` values may come back as `Buffer`); MapState iterates in encoded map-key order
 * (false, true, numbers ascending, bigints, strings by UTF-8 bytes) rather than insertion order,
 * and its map keys must be string, number, bigint or boolean; a key outside the key-group range
 * throws; keys are limited to 1978 encoded bytes.
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

  /** @internal The current key; undefined until set. */
  key: KeyValue | undefined;
  /** @internal Bumped when the key changes, so handles know their cached key strings are stale. */
  keyVersion = 0;
  /** @internal Key group and encoded user key of the current key, valid for `encodedVersion`. */
  keyGroupChars = '';
  /** @internal */
  userKeyChars = '';
  /** @internal Value and list entries written since the last snapshot; null marks a deletion. */
  readonly overlay = new Map<string, Bytes | null>();
  /** @internal Map entries written since the last snapshot: (state, user key) prefix → map-key suffix → value. */
  readonly mapOverlay = new Map<string, Map<string, Bytes | null>>();
  /** @internal */
  readonly db: Database<Bytes, Bytes>;

  private encodedVersion = -1;
  /** Counts overlay flushes, so map iterators notice that their LMDB snapshot went stale. */
  private flushEpoch = 0;
  private overlayEntries = 0;
  private readonly maxOverlayEntries: number;
  /** Keys flushed to LMDB early (overlay spill) since the last snapshot; they belong to the next delta. */
  private spilled: Set<string> | undefined;
  private readonly env: RootDatabase;
  private readonly ownsEnv: boolean;
  private readonly envKey: string;
  private readonly dbName: string;
  private readonly retain: boolean;
  private readonly states = new Map<string, StateInfo>();
  private readonly statesById = new Map<number, StateInfo>();
  private nextStateId = 0;
  private readonly scratch = Buffer.allocUnsafe(MAX_KEY_BYTES);
  private disposed = false;

  constructor(options: LmdbKeyedStateBackendOptions) {
    const { keyGroupRange, maxParallelism, dbName } = options;
    if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
      throw new RangeError(`maxParallelism must be an integer in [1, ${MAX_MAX_PARALLELISM}], got ${maxParallelism}`);
    }
    const { start, end } = keyGroupRange;
    // end === start - 1 is the empty range a subtask gets when parallelism > maxParallelism.
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end >= maxParallelism || end < start - 1) {
      throw new RangeError(
        `keyGroupRange [${start}, ${end}] is not a valid range of key groups for maxParallelism ${maxParallelism}`,
      );
    }
    const perChunk = options.keyGroupsPerChunk ?? Math.max(1, end - start + 1);
    if (!Number.isInteger(perChunk) || perChunk < 1) {
      throw new RangeError(`keyGroupsPerChunk must be a positive integer, got ${perChunk}`);
    }
    const maxOverlay = options.maxOverlayEntries ?? DEFAULT_MAX_OVERLAY_ENTRIES;
    if (!(maxOverlay >= 1)) throw new RangeError(`maxOverlayEntries must be at least 1, got ${maxOverlay}`);
    if (typeof dbName !== 'string' || dbName === '') throw new TypeError('dbName must be a non-empty string');

    this.keyGroupRange = { start, end };
    this.maxParallelism = maxParallelism;
    this.maxOverlayEntries = maxOverlay;
    this.retain = options.retain ?? false;
    const ranges: KeyGroupRange[] = [];
    for (let s = start; s <= end; s += perChunk) ranges.push({ start: s, end: Math.min(end, s + perChunk - 1) });
    this.chunkRanges = ranges;

    this.ownsEnv = typeof options.env === 'string';
    this.env = typeof options.env === 'string' ? openStateEnvironment(options.env) : options.env;
    this.envKey = envId(this.env);
    this.dbName = dbName;
    let inUse = dbsInUse.get(this.envKey);
    if (inUse?.has(dbName)) {
      if (this.ownsEnv) void this.env.close();
      throw new Error(`LMDB database "${dbName}" is already used by a live backend: dispose it first`);
    }
    if (inUse === undefined) {
      inUse = new Set();
      dbsInUse.set(this.envKey, inUse);
    }
    inUse.add(dbName);

    try {
      this.db = this.env.openDB<Bytes, Bytes>({ name: dbName, keyEncoding: 'binary', encoding: 'binary' });
      if (this.retain) {
        for (const { key, value } of this.db.getRange({ start: TABLE_START })) {
          const row = decodeStateTableRow(key, value);
          this.addState(row.name, row.id, row.kind);
        }
      } else {
        this.db.clearSync();
      }
    } catch (e) {
      inUse.delete(dbName);
      if (this.ownsEnv) void this.env.close();
      throw e;
    }
  }

  setCurrentKey(key: KeyValue): void {
    // Re-setting the same key (the common case for consecutive records) keeps the encoded key.
    // -0 after 0 keeps it too, which is right: both encode alike.
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

  /**
   * Number of keys holding any state. Cost: a scan of every entry of the key-group range plus
   * the overlay, with a Set of the distinct keys (≈1 s per million entries): for metrics and
   * tests, not for per-record use.
   */
  keyCount(): number {
    if (this.disposed) return 0;
    const live = new Set<string>();
    const { start, end } = this.keyGroupRange;
    if (end < start) return 0;
    for (const key of this.db.getKeys({ start: keyGroupStart(start), end: keyGroupStart(end + 1) })) {
      const k = bytesToBinaryString(key);
      const userKeyEnd = 4 + encodedKeyLength(key, 4);
      const info = this.statesById.get(stateIdOf(k));
      if (info?.kind === 'map') {
        if (this.mapOverlay.get(k.slice(0, userKeyEnd))?.get(k.slice(userKeyEnd)) === null) continue;
      } else if (this.overlay.get(k) === null) {
        continue;
      }
      live.add(k.slice(0, 2) + k.slice(4, userKeyEnd));
    }
    for (const [k, v] of this.overlay) if (v !== null) live.add(k.slice(0, 2) + k.slice(4));
    for (const [prefix, entries] of this.mapOverlay) {
      for (const v of entries.values()) {
        if (v !== null) {
          live.add(prefix.slice(0, 2) + prefix.slice(4));
          break;
        }
      }
    }
    return live.size;
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
    let changes = this.flushOverlay();
    const spilled = this.spilled;
    if (spilled !== undefined) {
      // Keys flushed early: their values are now LMDB's (the overlay just went there too).
      const seen = new Set(changes.map((c) => c[0]));
      for (const k of spilled) {
        if (seen.has(k)) continue;
        const keyBytes = binaryStringToBytes(k);
        changes.push([k, keyBytes, this.db.getBinary(keyBytes) ?? null]);
      }
      changes = changes.sort(byKey);
      this.spilled = undefined;
    }
    const chunks: KeyedStateSnapshot['chunks'] = [];
    let i = 0;
    for (const range of this.chunkRanges) {
      const from = i;
      while (i < changes.length && keyGroupOf(changes[i][0]) <= range.end) i++;
      if (i === from) continue;
      const chunk = this.chunkOf('delta', range, changes, from, i);
      chunks.push({ range, chunk });
    }
    return { chunks };
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
    const start = Math.max(range.start, this.keyGroupRange.start);
    const end = Math.min(range.end, this.keyGroupRange.end);
    const pending: Array<[string, Bytes | null]> = [];
    const inRange = (k: string): boolean => {
      const kg = keyGroupOf(k);
      return kg >= start && kg <= end;
    };
    for (const [k, v] of this.overlay) if (inRange(k)) pending.push([k, v]);
    for (const [prefix, entries] of this.mapOverlay) {
      if (!inRange(prefix)) continue;
      for (const [suffix, v] of entries) pending.push([prefix + suffix, v]);
    }
    pending.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const merged: Change[] = [];
    let p = 0;
    const pushPending = (upTo: string | undefined): void => {
      for (; p < pending.length && (upTo === undefined || pending[p][0] < upTo); p++) {
        const [k, v] = pending[p];
        if (v !== null) merged.push([k, binaryStringToBytes(k), v]);
      }
    };
    if (end >= start) {
      for (const { key, value } of this.db.getRange({ start: keyGroupStart(start), end: keyGroupStart(end + 1) })) {
        const keyBytes = key as Buffer;
        if (p < pending.length) {
          const k = bytesToBinaryString(keyBytes);
          pushPending(k);
          if (p < pending.length && pending[p][0] === k) continue; // the overlay's version was just taken
          merged.push([k, keyBytes, value]);
        } else {
          merged.push(['', keyBytes, value]);
        }
      }
    }
    pushPending(undefined);
    return this.chunkOf('base', range, merged, 0, merged.length);
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
   * backend.restore(chainRefs.map((ref) => decodeChunk(read(ref.id), ref.id)));
   */
  restore(chunks: readonly DeltaChunk[]): void {
    this.checkOpen();
    // Resolve every chunk's state table against ours first, so a conflict throws before any write.
    const rowsPerChunk = chunks.map((chunk) => {
      const rows: Array<{ id: number; name: string; kind: StateKind }> = [];
      const entries = chunk.entries;
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
        const known = this.states.get(name)?.kind ?? kinds.get(name);
        if (known !== undefined && known !== kind) {
          throw new Error(`cannot restore state "${name}" as ${kind} state: it is registered as ${known} state`);
        }
        kinds.set(name, kind);
      }
    }
    const remaps = rowsPerChunk.map((rows) => {
      const remap = new Map<number, number>();
      for (const { id, name, kind } of rows) remap.set(id, this.stateInfo(name, kind).id);
      return remap;
    });

    const { start, end } = this.keyGroupRange;
    this.db.transactionSync(() => {
      this.clearRange();
      chunks.forEach((chunk, c) => {
        const remap = remaps[c];
        for (const [key, value] of chunk.entries) {
          if (isStateTableKey(key)) continue;
          const kg = (key[0] << 8) | key[1];
          if (kg < start || kg > end) continue;
          const id = (key[2] << 8) | key[3];
          const ours = remap.get(id);
          if (ours === undefined) throw new Error(`corrupt chunk: entry of state id ${id} without a state table row`);
          let k = key;
          if (ours !== id) {
            k = Buffer.from(key);
            k[2] = ours >>> 8;
            k[3] = ours & 0xff;
          }
          if (value === null) this.db.removeSync(k);
          else this.db.putSync(k, value);
        }
      });
    });
    this.flushEpoch++;
    this.overlay.clear();
    this.mapOverlay.clear();
    this.overlayEntries = 0;
    this.spilled = undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.overlay.clear();
    this.mapOverlay.clear();
    this.spilled = undefined;
    this.key = undefined;
    this.keyVersion++;
    this.states.clear();
    this.statesById.clear();
    dbsInUse.get(this.envKey)?.delete(this.dbName);
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

  /** @internal Computes the key group and encoded form of the current key once per key change. */
  encodeCurrentKey(): void {
    if (this.encodedVersion === this.keyVersion) return;
    if (this.disposed) throw new Error('the keyed state backend is disposed');
    const key = this.key;
    if (key === undefined) noCurrentKey();
    const kg = keyGroupFor(key, this.maxParallelism);
    if (kg < this.keyGroupRange.start || kg > this.keyGroupRange.end) {
      throw new RangeError(
        `key ${String(key)} is in key group ${kg}, outside this backend's range [${this.keyGroupRange.start}, ${this.keyGroupRange.end}]`,
      );
    }
    this.keyGroupChars = u16BinaryString(kg);
    this.userKeyChars = encodeKeyBinary(key);
    if (this.userKeyChars.length + 4 > MAX_KEY_BYTES) tooLong(this.userKeyChars.length + 4);
    this.encodedVersion = this.keyVersion;
  }

  /** @internal LMDB value of a binary-string key, in a buffer that the next read overwrites. */
  readFast(k: string): Buffer | undefined {
    const n = this.scratch.write(k, 0, 'latin1');
    return this.db.getBinaryFast(this.scratch.subarray(0, n));
  }

  /** @internal Current bytes of a value/list entry (overlay, then LMDB); undefined if absent. */
  readFlat(k: string): Bytes | undefined {
    const o = this.overlay.get(k);
    if (o !== undefined) return o ?? undefined;
    return this.readFast(k);
  }

  /** @internal */
  writeFlat(k: string, value: Bytes | null): void {
    const size = this.overlay.size;
    this.overlay.set(k, value);
    if (this.overlay.size !== size && ++this.overlayEntries >= this.maxOverlayEntries) this.spill();
  }

  /** @internal */
  writeMap(prefix: string, suffix: string, value: Bytes | null): void {
    let entries = this.mapOverlay.get(prefix);
    if (entries === undefined) {
      entries = new Map();
      this.mapOverlay.set(prefix, entries);
    }
    const size = entries.size;
    entries.set(suffix, value);
    if (entries.size !== size && ++this.overlayEntries >= this.maxOverlayEntries) this.spill();
  }

  /**
   * @internal Live entries of one map (user key prefix), in key order: an LMDB prefix scan
   * merged with the overlay (overlay wins, tombstones hide). Yields map-key suffixes and bytes.
   */
  *mapEntries(prefix: string, withValues: boolean): Generator<[suffix: string, value: Bytes]> {
    const first = this.mapOverlay.get(prefix);
    const pending = first === undefined ? [] : [...first.keys()].sort();
    let p = 0;
    const epoch = this.flushEpoch;
    const prefixBytes = binaryStringToBytes(prefix);
    const range = { start: prefixBytes, end: prefixSuccessor(prefixBytes) };
    const scan = withValues
      ? this.db.getRange(range)
      : this.db.getKeys(range).map((key) => ({ key, value: EMPTY_BYTES }));
    for (const { key, value } of scan) {
      const suffix = bytesToBinaryString(key, prefixBytes.length);
      for (; p < pending.length && pending[p] < suffix; p++) {
        const v = this.currentMapValue(prefix, pending[p]);
        if (v !== undefined) yield [pending[p], v];
      }
      if (p < pending.length && pending[p] === suffix) p++;
      // Looked up per entry, not captured once: the caller may write while iterating.
      const o = this.mapOverlay.get(prefix)?.get(suffix);
      if (o === null) continue;
      if (o !== undefined) yield [suffix, o];
      else if (this.flushEpoch === epoch) yield [suffix, value];
      else {
        // The overlay was flushed mid-iteration (a spill), so the cursor's snapshot may be stale.
        const now = this.db.getBinary(key);
        if (now !== undefined) yield [suffix, now];
      }
    }
    for (; p < pending.length; p++) {
      const v = this.currentMapValue(prefix, pending[p]);
      if (v !== undefined) yield [pending[p], v];
    }
  }

  /** Current bytes of one map entry that was in the overlay, which may since have been flushed. */
  private currentMapValue(prefix: string, suffix: string): Bytes | undefined {
    const o = this.mapOverlay.get(prefix)?.get(suffix);
    if (o !== undefined) return o ?? undefined;
    return this.db.getBinary(binaryStringToBytes(prefix + suffix));
  }

  /** @internal Map-key suffixes of one map stored in LMDB (overlay not applied). */
  storedMapKeys(prefix: string): string[] {
    const prefixBytes = binaryStringToBytes(prefix);
    const out: string[] = [];
    for (const key of this.db.getKeys({ start: prefixBytes, end: prefixSuccessor(prefixBytes) })) {
      out.push(bytesToBinaryString(key, prefixBytes.length));
    }
    return out;
  }

  // ---- private -------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.disposed) throw new Error('the keyed state backend is disposed');
  }

  private state(name: string, kind: StateKind): StateInfo {
    const existing = this.states.get(name);
    if (existing !== undefined && existing.handle !== undefined && existing.kind === kind) return existing;
    if (existing === undefined && this.disposed) {
      throw new Error(`cannot create state "${name}": the keyed state backend is disposed`);
    }
    const info = this.stateInfo(name, kind);
    if (info.handle === undefined) {
      switch (kind) {
        case 'value':
          info.handle = new LmdbValueState<unknown>(this, info.idChars);
          break;
        case 'map':
          info.handle = new LmdbMapState<KeyValue, unknown>(this, info.idChars);
          break;
        case 'list':
          info.handle = new LmdbListState<unknown>(this, info.idChars);
          break;
      }
    }
    return info;
  }

  /** Registers a state (persisting its table row) or checks the kind of a registered one. */
  private stateInfo(name: string, kind: StateKind): StateInfo {
    const existing = this.states.get(name);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        throw new Error(`state "${name}" is already registered as ${existing.kind} state; cannot use it as ${kind} state`);
      }
      return existing;
    }
    this.checkOpen();
    if (this.nextStateId > MAX_STATE_ID) throw new RangeError(`too many states: at most ${MAX_STATE_ID + 1}`);
    const info = this.addState(name, this.nextStateId, kind);
    const [key, value] = encodeStateTableRow(info);
    this.db.putSync(key, value);
    return info;
  }

  private addState(name: string, id: number, kind: StateKind): StateInfo {
    const info: StateInfo = { name, id, kind, idChars: u16BinaryString(id), handle: undefined };
    this.states.set(name, info);
    this.statesById.set(id, info);
    if (id >= this.nextStateId) this.nextStateId = id + 1;
    return info;
  }

  /**
   * Writes the overlay to LMDB in one transaction, sorted, and empties it. Returns the changes
   * that count for a delta: deletions of keys LMDB never had (created and deleted since the last
   * flush) are dropped, unless the key was spilled earlier in this interval.
   */
  private flushOverlay(): Change[] {
    if (this.overlayEntries === 0) return [];
    const pending: Array<[string, Bytes | null]> = [];
    for (const [k, v] of this.overlay) pending.push([k, v]);
    for (const [prefix, entries] of this.mapOverlay) for (const [suffix, v] of entries) pending.push([prefix + suffix, v]);
    pending.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const changes: Change[] = [];
    const spilled = this.spilled;
    const db = this.db;
    db.transactionSync(() => {
      for (const [k, v] of pending) {
        const keyBytes = binaryStringToBytes(k);
        if (v === null) {
          if (db.removeSync(keyBytes) || spilled?.has(k)) changes.push([k, keyBytes, null]);
        } else {
          db.putSync(keyBytes, v);
          changes.push([k, keyBytes, v]);
        }
      }
    });
    // Cleared only after the commit: if the transaction failed, the overlay still holds the writes.
    this.flushEpoch++;
    this.overlay.clear();
    this.mapOverlay.clear();
    this.overlayEntries = 0;
    return changes;
  }

  /** Flushes an overgrown overlay early, remembering its keys for the next delta. */
  private spill(): void {
    const changes = this.flushOverlay();
    const spilled = this.spilled ?? new Set<string>();
    this.spilled = spilled;
    for (const [k] of changes) spilled.add(k);
  }

  /** Builds a chunk from sorted changes `[from, to)` plus the table rows of the states they touch. */
  private chunkOf(kind: DeltaChunk['kind'], range: KeyGroupRange, changes: Change[], from: number, to: number): DeltaChunk {
    const entries: DeltaChunk['entries'] = new Array(to - from);
    const ids = new Set<number>();
    let lastId = -1;
    for (let i = from; i < to; i++) {
      const keyBytes = changes[i][1];
      const id = (keyBytes[2] << 8) | keyBytes[3];
      if (id !== lastId) {
        ids.add(id);
        lastId = id;
      }
      entries[i - from] = [keyBytes, changes[i][2]];
    }
    const rows: Array<[Bytes, Bytes]> = [];
    for (const id of ids) {
      const info = this.statesById.get(id);
      if (info !== undefined) rows.push(encodeStateTableRow(info));
    }
    rows.sort((a, b) => Buffer.compare(a[0], b[0]));
    for (const row of rows) entries.push(row);
    return { kind, range: { start: range.start, end: range.end }, entries };
  }

  /** Removes this backend's key-group range from LMDB; must run inside a write transaction. */
  private clearRange(): void {
    const { start, end } = this.keyGroupRange;
    const db = this.db;
    const before = [...db.getKeys({ start: keyGroupStart(0), end: keyGroupStart(start), limit: 1 })];
    const after = [...db.getKeys({ start: keyGroupStart(end + 1), end: TABLE_START, limit: 1 })];
    if (before.length === 0 && after.length === 0) {
      // Nothing outside our range: dropping all pages is far cheaper than deleting key by key.
      db.clearSync();
      for (const info of this.states.values()) {
        const [key, value] = encodeStateTableRow(info);
        db.putSync(key, value);
      }
      return;
    }
    if (end < start) return;
    // Collected first: deleting under an open cursor would disturb the scan.
    const keys = [...db.getKeys({ start: keyGroupStart(start), end: keyGroupStart(end + 1) })];
    for (const key of keys) db.removeSync(key);
  }
}

const EMPTY_BYTES: Bytes = new Uint8Array(0);

/** Caches the binary-string key of (current key, state) until the current key changes. */
abstract class LmdbHandle {
  private version = -1;
  private cached = '';

  constructor(
    protected readonly backend: LmdbKeyedStateBackend,
    private readonly idChars: string,
  ) {}

  protected currentKey(): string {
    const b = this.backend;
    if (this.version !== b.keyVersion) {
      b.encodeCurrentKey();
      this.cached = b.keyGroupChars + this.idChars + b.userKeyChars;
      this.version = b.keyVersion;
    }
    return this.cached;
  }
}

class LmdbValueState<T> extends LmdbHandle implements ValueState<T> {
  value(): T | undefined {
    const bytes = this.backend.readFlat(this.currentKey());
    return bytes === undefined ? undefined : (packr.unpack(bytes) as T);
  }

  update(value: T): void {
    // Storing undefined would keep a key alive that reads exactly like an absent one.
    this.backend.writeFlat(this.currentKey(), value === undefined ? null : packr.pack(value));
  }

  clear(): void {
    this.backend.writeFlat(this.currentKey(), null);
  }
}

class LmdbListState<T> extends LmdbHandle implements ListState<T> {
  /** A fresh array decoded from storage. */
  get(): readonly T[] {
    const bytes = this.backend.readFlat(this.currentKey());
    return bytes === undefined ? EMPTY_LIST : decodeList<T>(bytes);
  }

  add(value: T): void {
    this.append(packr.pack(value));
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    this.append(encodeList(values));
  }

  update(values: readonly T[]): void {
    this.backend.writeFlat(this.currentKey(), values.length === 0 ? null : encodeList(values));
  }

  clear(): void {
    this.backend.writeFlat(this.currentKey(), null);
  }

  // Elements are concatenated msgpackr values, so appending is a byte copy: no decode, no re-encode.
  private append(encoded: Buffer): void {
    const k = this.currentKey();
    const current = this.backend.readFlat(k);
    if (current === undefined) {
      this.backend.writeFlat(k, encoded);
      return;
    }
    // Not Buffer.concat: LMDB's reused read buffer reports a byteLength beyond its length, which
    // Buffer.concat rejects; a subarray of exactly `length` bytes copies fine.
    const joined = Buffer.allocUnsafe(current.length + encoded.length);
    joined.set(current.subarray(0, current.length), 0);
    joined.set(encoded, current.length);
    this.backend.writeFlat(k, joined);
  }
}

function checkMapKey(userKey: unknown): asserts userKey is KeyValue {
  const t = typeof userKey;
  if (t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') {
    throw new TypeError(`unsupported MapState key type ${t}: map keys must be string, number, bigint or boolean`);
  }
}

class LmdbMapState<UK extends KeyValue, UV> extends LmdbHandle implements MapState<UK, UV> {
  private suffix(userKey: UK, prefix: string): string {
    checkMapKey(userKey);
    const s = encodeKeyBinary(userKey);
    if (prefix.length + s.length > MAX_KEY_BYTES) tooLong(prefix.length + s.length);
    return s;
  }

  private read(userKey: UK): Bytes | undefined {
    const prefix = this.currentKey();
    const suffix = this.suffix(userKey, prefix);
    const o = this.backend.mapOverlay.get(prefix)?.get(suffix);
    if (o !== undefined) return o ?? undefined;
    return this.backend.readFast(prefix + suffix);
  }

  get(userKey: UK): UV | undefined {
    const bytes = this.read(userKey);
    return bytes === undefined ? undefined : (packr.unpack(bytes) as UV);
  }

  put(userKey: UK, value: UV): void {
    const prefix = this.currentKey();
    this.backend.writeMap(prefix, this.suffix(userKey, prefix), packr.pack(value));
  }

  remove(userKey: UK): void {
    const prefix = this.currentKey();
    this.backend.writeMap(prefix, this.suffix(userKey, prefix), null);
  }

  contains(userKey: UK): boolean {
    return this.read(userKey) !== undefined;
  }

  *entries(): IterableIterator<[UK, UV]> {
    for (const [suffix, value] of this.backend.mapEntries(this.currentKey(), true)) {
      yield [decodeKey(binaryStringToBytes(suffix)) as UK, packr.unpack(value) as UV];
    }
  }

  *keys(): IterableIterator<UK> {
    for (const [suffix] of this.backend.mapEntries(this.currentKey(), false)) {
      yield decodeKey(binaryStringToBytes(suffix)) as UK;
    }
  }

  *values(): IterableIterator<UV> {
    for (const [, value] of this.backend.mapEntries(this.currentKey(), true)) yield packr.unpack(value) as UV;
  }

  isEmpty(): boolean {
    for (const _ of this.backend.mapEntries(this.currentKey(), false)) return false;
    return true;
  }

  clear(): void {
    const prefix = this.currentKey();
    const b = this.backend;
    const pending = b.mapOverlay.get(prefix);
    if (pending !== undefined) for (const suffix of pending.keys()) pending.set(suffix, null);
    for (const suffix of b.storedMapKeys(prefix)) b.writeMap(prefix, suffix, null);
  }
}
