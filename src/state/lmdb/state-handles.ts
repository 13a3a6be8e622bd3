// The ValueState, ListState and MapState handles of the LMDB backend, reading through the overlay.
import type { KeyValue, ListState, MapState, ValueState } from '../types.ts';
import { encodeKeyBinary, MAX_KEY_BYTES } from './key-codec.ts';
import type { LmdbKeyedStateBackend } from './lmdb-keyed-state-backend.ts';
import { type Bytes, mapOverlayGet, NONE, packr, type StateInfo, TOMBSTONE } from './overlay.ts';

const EMPTY_LIST: readonly never[] = Object.freeze([]);

function checkMapKey(userKey: unknown): asserts userKey is KeyValue {
  const t = typeof userKey;
  if (t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') {
    throw new TypeError(`unsupported MapState key type ${t}: map keys must be string, number, bigint or boolean`);
  }
}

/** Caches the LMDB key of (current key, state) until the current key changes. */
abstract class LmdbHandle {
  private version = -1;
  private cached = '';

  constructor(
    protected readonly backend: LmdbKeyedStateBackend,
    protected readonly info: StateInfo,
  ) {}

  protected storedKey(): string {
    const b = this.backend;
    if (this.version !== b.keyVersion) {
      this.cached = b.currentPrefix(this.info.idChars);
      this.version = b.keyVersion;
    }
    return this.cached;
  }

  /** LMDB bytes of the current key's value or list (overlay not applied), valid until the next read. */
  protected readStored(): Bytes | undefined {
    return this.backend.readStored(this.storedKey());
  }

  protected write(key: KeyValue, value: unknown): void {
    const overlay = this.info.overlay;
    const size = overlay.size;
    overlay.set(key, value);
    if (overlay.size !== size) this.backend.addedOverlayEntry();
  }
}

export class LmdbValueState<T> extends LmdbHandle implements ValueState<T> {
  value(): T | undefined {
    const o = this.info.overlay.get(this.backend.currentKey());
    if (o !== undefined) return o === TOMBSTONE ? undefined : (o as T);
    const bytes = this.readStored();
    return bytes === undefined ? undefined : (packr.unpack(bytes) as T);
  }

  update(value: T): void {
    // Storing undefined would keep a key alive that reads exactly like an absent one.
    this.write(this.backend.currentKey(), value === undefined ? TOMBSTONE : value);
  }

  clear(): void {
    this.write(this.backend.currentKey(), TOMBSTONE);
  }
}

export class LmdbListState<T> extends LmdbHandle implements ListState<T> {
  /** The overlay's array for a key written since the last snapshot (do not mutate it), else a fresh decoded one. */
  get(): readonly T[] {
    const o = this.info.overlay.get(this.backend.currentKey());
    if (o !== undefined) return o === TOMBSTONE ? EMPTY_LIST : (o as T[]);
    const bytes = this.readStored();
    return bytes === undefined ? EMPTY_LIST : (packr.unpackMultiple(bytes) as T[]);
  }

  add(value: T): void {
    const key = this.backend.currentKey();
    const o = this.info.overlay.get(key);
    if (o !== undefined && o !== TOMBSTONE) {
      (o as T[]).push(value);
      return;
    }
    const list = this.startList(o);
    list.push(value);
    this.write(key, list);
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const key = this.backend.currentKey();
    const o = this.info.overlay.get(key);
    const owned = o !== undefined && o !== TOMBSTONE;
    const list = owned ? (o as T[]) : this.startList(o);
    for (const v of values) list.push(v);
    if (!owned) this.write(key, list);
  }

  update(values: readonly T[]): void {
    // Copied so later add() calls never write into the caller's array.
    this.write(this.backend.currentKey(), values.length === 0 ? TOMBSTONE : values.slice());
  }

  clear(): void {
    this.write(this.backend.currentKey(), TOMBSTONE);
  }

  /**
   * A new overlay array for the current key, whose overlay entry is `o` (undefined or a
   * tombstone): the stored list decoded once, so that further appends until the next snapshot
   * are a push and the list is encoded once, when it leaves the overlay.
   */
  private startList(o: unknown): T[] {
    if (o === TOMBSTONE) return [];
    const bytes = this.readStored();
    return bytes === undefined ? [] : (packr.unpackMultiple(bytes) as T[]);
  }
}

export class LmdbMapState<UK extends KeyValue, UV> extends LmdbHandle implements MapState<UK, UV> {
  /** The current value of a map entry, or NONE if absent. */
  private readEntry(userKey: UK): unknown {
    const b = this.backend;
    const key = b.currentKey();
    checkMapKey(userKey);
    const o = mapOverlayGet(this.info.mapOverlay.get(key), userKey);
    if (o !== NONE) return o === TOMBSTONE ? NONE : o;
    const mapKey = encodeKeyBinary(userKey);
    const prefix = this.storedKey();
    if (prefix.length + mapKey.length > MAX_KEY_BYTES) return NONE; // could never have been stored
    const bytes = b.readStored(prefix + mapKey);
    return bytes === undefined ? NONE : packr.unpack(bytes);
  }

  private writeEntry(userKey: UK, value: unknown): void {
    const b = this.backend;
    const key = b.currentKey();
    checkMapKey(userKey);
    b.checkMapKeyLength(userKey);
    let entries = this.info.mapOverlay.get(key);
    if (entries === undefined) {
      entries = new Map();
      this.info.mapOverlay.set(key, entries);
    }
    const size = entries.size;
    entries.set(userKey, value);
    if (entries.size !== size) b.addedOverlayEntry();
  }

  get(userKey: UK): UV | undefined {
    const v = this.readEntry(userKey);
    return v === NONE ? undefined : (v as UV);
  }

  put(userKey: UK, value: UV): void {
    this.writeEntry(userKey, value);
  }

  remove(userKey: UK): void {
    this.writeEntry(userKey, TOMBSTONE);
  }

  contains(userKey: UK): boolean {
    return this.readEntry(userKey) !== NONE;
  }

  // Not generator methods themselves: the current key is taken when entries() is called.
  entries(): IterableIterator<[UK, UV]> {
    return this.backend.mapEntries(this.info, true) as IterableIterator<[UK, UV]>;
  }

  keys(): IterableIterator<UK> {
    return mapKeysOf<UK>(this.backend.mapEntries(this.info, false));
  }

  values(): IterableIterator<UV> {
    return mapValuesOf<UV>(this.backend.mapEntries(this.info, true));
  }

  isEmpty(): boolean {
    const b = this.backend;
    const entries = this.info.mapOverlay.get(b.currentKey());
    if (entries !== undefined) for (const v of entries.values()) if (v !== TOMBSTONE) return false;
    for (const _ of b.mapEntries(this.info, false)) return false;
    return true;
  }

  clear(): void {
    const b = this.backend;
    const key = b.currentKey();
    const pending = this.info.mapOverlay.get(key);
    if (pending !== undefined) for (const mapKey of pending.keys()) pending.set(mapKey, TOMBSTONE);
    for (const mapKey of b.storedMapKeys(this.info.idChars)) this.writeEntry(mapKey as UK, TOMBSTONE);
  }
}

function* mapKeysOf<UK>(entries: Iterable<[KeyValue, unknown]>): Generator<UK> {
  for (const [k] of entries) yield k as UK;
}

function* mapValuesOf<UV>(entries: Iterable<[KeyValue, unknown]>): Generator<UV> {
  for (const [, v] of entries) yield v as UV;
}
