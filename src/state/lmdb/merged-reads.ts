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
import type { StateTable } from './state-table.ts';

const EMPTY_BYTES: Bytes = new Uint8Array(0);

/**
 * Live entries of one user key's map, in encoded map-key order: overlay wins, tombstones hide.
 * Values are decoded (overlay values as they are), or undefined unless asked for. The overlay is
 * looked up per entry, so writes during iteration show; `epoch` tells whether it was flushed.
 */
export function* mergedMapEntries(
  db: Database<Bytes, string>,
  info: StateInfo,
  userKey: KeyValue,
  prefix: string,
  withValues: boolean,
  epoch: { readonly flushEpoch: number },
): Generator<[mapKey: KeyValue, value: unknown]> {
  const initial = info.mapOverlay.get(userKey);
  const pending: Array<[suffix: string, mapKey: KeyValue]> =
    initial === undefined ? [] : [...initial.keys()].map((mk): [string, KeyValue] => [encodeKeyBinary(mk), mk]);
  pending.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let p = 0;
  const startEpoch = epoch.flushEpoch;
  const range = { start: prefix, end: prefixSuccessorBinary(prefix) };
  const scan = withValues ? db.getRange(range) : db.getKeys(range).map((key) => ({ key, value: EMPTY_BYTES }));
  for (const { key, value } of scan) {
    const suffix = key.slice(prefix.length);
    for (; p < pending.length && pending[p][0] < suffix; p++) {
      const v = currentMapValue(db, info, userKey, prefix, pending[p], withValues);
      if (v !== NONE) yield [pending[p][1], v];
    }
    if (p < pending.length && pending[p][0] === suffix) p++;
    const mapKey = decodeKeyBinary(suffix);
    // Looked up per entry, not captured once: the caller may write while iterating.
    const o = mapOverlayGet(info.mapOverlay.get(userKey), mapKey);
    if (o === TOMBSTONE) continue;
    if (o !== NONE) yield [mapKey, o];
    else if (epoch.flushEpoch === startEpoch) yield [mapKey, withValues ? packr.unpack(value) : undefined];
    else {
      // The overlay was flushed mid-iteration (a spill), so the cursor's snapshot may be stale.
      const now = db.getBinaryFast(key);
      if (now !== undefined) yield [mapKey, withValues ? packr.unpack(now) : undefined];
    }
  }
  for (; p < pending.length; p++) {
    const v = currentMapValue(db, info, userKey, prefix, pending[p], withValues);
    if (v !== NONE) yield [pending[p][1], v];
  }
}

/** Current value of one map entry that was in the overlay, which may since have been flushed; NONE if absent. */
function currentMapValue(
  db: Database<Bytes, string>,
  info: StateInfo,
  userKey: KeyValue,
  prefix: string,
  [suffix, mapKey]: [string, KeyValue],
  withValue: boolean,
): unknown {
  const o = mapOverlayGet(info.mapOverlay.get(userKey), mapKey);
  if (o !== NONE) return o === TOMBSTONE ? NONE : o;
  const bytes = db.getBinaryFast(prefix + suffix);
  if (bytes === undefined) return NONE;
  return withValue ? packr.unpack(bytes) : undefined;
}

/** Map keys of one map stored in LMDB (overlay not applied). */
export function storedMapKeys(db: Database<Bytes, string>, prefix: string): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key of db.getKeys({ start: prefix, end: prefixSuccessorBinary(prefix) })) {
    out.push(decodeKeyBinary(key, prefix.length));
  }
  return out;
}

/** Distinct user keys holding any live state in a key-group range: LMDB entries not deleted in the overlay, plus the overlay's. */
export function countLiveKeys(db: Database<Bytes, string>, table: StateTable, { start, end }: KeyGroupRange): number {
  if (end < start) return 0;
  const live = new Set<KeyValue>();
  for (const k of db.getKeys({ start: u16BinaryString(start), end: u16BinaryString(end + 1) })) {
    const info = table.getById(stateIdOf(k));
    const userKey = decodeKeyBinary(k, 4);
    if (info?.kind === 'map') {
      const mapKey = decodeKeyBinary(k, 4 + encodedKeyLengthBinary(k, 4));
      if (info.mapOverlay.get(userKey)?.get(mapKey) === TOMBSTONE) continue;
    } else if (info?.overlay.get(userKey) === TOMBSTONE) {
      continue;
    }
    live.add(userKey);
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
