// Reads that merge LMDB scans with the overlay: MapState iteration and counting live keys.
import type { Database } from 'lmdb';
import type { KeyGroupRange, KeyValue } from '../types.ts';
import {
  decodeKeyBinary,
  encodedKeyLengthBinary,
  encodeKeyBinary,
  prefixSuccessorBinary,
  u16BinaryString,
} from './key-codec.ts';
import { type Bytes, mapOverlayGet, NONE, packr, type StateInfo, stateIdOf, TOMBSTONE } from './overlay.ts';
import type { RestoredLayer } from './restored-layer.ts';
import type { StateTable } from './state-table.ts';

const EMPTY_BYTES: Bytes = new Uint8Array(0);

/**
 * Live entries of one user key's map, in encoded map-key order: overlay wins, then the restored
 * layer, then LMDB; tombstones hide. Values are decoded (overlay values as they are), or
 * undefined unless asked for. The overlay and the restored layer are looked up per entry, so
 * writes during iteration show; `epoch` tells whether either was flushed into LMDB meanwhile
 * (then the cursor's values may be stale and are read again).
 */
export function* mergedMapEntries(
  db: Database<Bytes, string>,
  info: StateInfo,
  userKey: KeyValue,
  prefix: string,
  withValues: boolean,
  epoch: { readonly flushEpoch: number },
  restored: RestoredLayer,
): Generator<[mapKey: KeyValue, value: unknown]> {
  const end = prefixSuccessorBinary(prefix);
  // Map keys known outside LMDB when iteration starts, resolved one by one in key order.
  const known = new Map<string, KeyValue>();
  const initial = info.mapOverlay.get(userKey);
  if (initial !== undefined) for (const mk of initial.keys()) known.set(encodeKeyBinary(mk), mk);
  if (restored.size > 0) {
    for (const k of restored.keysIn(prefix, end)) {
      const suffix = k.slice(prefix.length);
      if (!known.has(suffix)) known.set(suffix, decodeKeyBinary(suffix));
    }
  }
  const pending = [...known].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let p = 0;
  const startEpoch = epoch.flushEpoch;
  const scan = withValues ? db.getRange({ start: prefix, end }) : db.getKeys({ start: prefix, end }).map((key) => ({ key, value: EMPTY_BYTES }));
  for (const { key, value } of scan) {
    const suffix = key.slice(prefix.length);
    for (; p < pending.length && pending[p][0] < suffix; p++) {
      const v = currentMapValue(db, info, userKey, prefix, pending[p], withValues, restored);
      if (v !== NONE) yield [pending[p][1], v];
    }
    if (p < pending.length && pending[p][0] === suffix) {
      const entry = pending[p++];
      const v = currentMapValue(db, info, userKey, prefix, entry, withValues, restored);
      if (v !== NONE) yield [entry[1], v];
      continue;
    }
    const mapKey = decodeKeyBinary(suffix);
    // Looked up per entry, not captured once: the caller may write while iterating.
    const o = mapOverlayGet(info.mapOverlay.get(userKey), mapKey);
    if (o === TOMBSTONE) continue;
    if (o !== NONE) {
      yield [mapKey, o];
      continue;
    }
    const r = restored.size > 0 ? restored.get(key) : undefined;
    if (r === null) continue;
    if (r !== undefined) yield [mapKey, withValues ? packr.unpack(r) : undefined];
    else if (epoch.flushEpoch === startEpoch) yield [mapKey, withValues ? packr.unpack(value) : undefined];
    else {
      // The overlay or the restored layer was flushed mid-iteration (a spill, a flush slice): the cursor's snapshot may be stale.
      const now = db.getBinaryFast(key);
      if (now !== undefined) yield [mapKey, withValues ? packr.unpack(now) : undefined];
    }
  }
  for (; p < pending.length; p++) {
    const v = currentMapValue(db, info, userKey, prefix, pending[p], withValues, restored);
    if (v !== NONE) yield [pending[p][1], v];
  }
}

/** Current value of one map entry known outside LMDB at the start (overlay, restored layer), which may since have been flushed; NONE if absent. */
function currentMapValue(
  db: Database<Bytes, string>,
  info: StateInfo,
  userKey: KeyValue,
  prefix: string,
  [suffix, mapKey]: [string, KeyValue],
  withValue: boolean,
  restored: RestoredLayer,
): unknown {
  const o = mapOverlayGet(info.mapOverlay.get(userKey), mapKey);
  if (o !== NONE) return o === TOMBSTONE ? NONE : o;
  const r = restored.get(prefix + suffix);
  if (r === null) return NONE;
  const bytes = r ?? db.getBinaryFast(prefix + suffix);
  if (bytes === undefined) return NONE;
  return withValue ? packr.unpack(bytes) : undefined;
}

/** Map keys of one map stored in LMDB or the restored layer (overlay not applied; a restored deletion may be listed). */
export function storedMapKeys(db: Database<Bytes, string>, prefix: string, restored: RestoredLayer): KeyValue[] {
  const end = prefixSuccessorBinary(prefix);
  const keys = new Set<string>(db.getKeys({ start: prefix, end }));
  if (restored.size > 0) for (const k of restored.keysIn(prefix, end)) keys.add(k);
  return [...keys].map((key) => decodeKeyBinary(key, prefix.length));
}

/** Whether the overlay holds an entry (value or tombstone) for a stored key, and which. */
function overlayEntryOf(table: StateTable, k: string): unknown {
  const info = table.getById(stateIdOf(k));
  const userKey = decodeKeyBinary(k, 4);
  if (info?.kind === 'map') {
    const mapKey = decodeKeyBinary(k, 4 + encodedKeyLengthBinary(k, 4));
    return mapOverlayGet(info.mapOverlay.get(userKey), mapKey);
  }
  const o = info?.overlay.get(userKey);
  return o === undefined ? NONE : o;
}

/**
 * Distinct user keys holding any live state in a key-group range: LMDB and restored entries not
 * deleted above them (overlay, then restored layer), plus the overlay's.
 */
export function countLiveKeys(db: Database<Bytes, string>, table: StateTable, { start, end }: KeyGroupRange, restored: RestoredLayer): number {
  if (end < start) return 0;
  const live = new Set<KeyValue>();
  const from = u16BinaryString(start);
  const to = u16BinaryString(end + 1);
  for (const k of db.getKeys({ start: from, end: to })) {
    const o = overlayEntryOf(table, k);
    if (o === TOMBSTONE) continue;
    if (o === NONE && restored.size > 0 && restored.get(k) === null) continue;
    live.add(decodeKeyBinary(k, 4));
  }
  if (restored.size > 0) {
    for (const k of restored.keysIn(from, to)) {
      if (restored.get(k) === null || overlayEntryOf(table, k) === TOMBSTONE) continue;
      live.add(decodeKeyBinary(k, 4));
    }
  }
  for (const info of table.values()) {
    for (const [userKey, v] of info.overlay) if (v !== TOMBSTONE) live.add(userKey);
    for (const [userKey, entries] of info.mapOverlay) {
      for (const v of entries.values()) {
        if (v !== TOMBSTONE) {
          live.add(userKey);
          break;
        }
      }
    }
  }
  return live.size;
}
