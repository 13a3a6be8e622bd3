// The state table: state name ↔ id ↔ kind, persisted as rows after every state entry in LMDB.
import { StateKindConflictError } from '../errors.ts';
import type { Database } from 'lmdb';
import type { StateKind } from '../types.ts';
import { TABLE_START } from './environment.ts';
import {
  binaryStringToBytes,
  bytesToBinaryString,
  decodeStateTableRow,
  encodeStateTableRow,
  MAX_STATE_ID,
  u16BinaryString,
} from './key-codec.ts';
import type { Bytes, StateInfo } from './overlay.ts';

/** The states of one backend by name and by id, each with its overlay. */
export class StateTable {
  private readonly byName = new Map<string, StateInfo>();
  private readonly byId = new Map<number, StateInfo>();
  private nextId = 0;

  constructor(private readonly db: Database<Bytes, string>) {}

  /** Registers the states whose rows the database already holds (a retained database). */
  load(): void {
    for (const { key, value } of this.db.getRange({ start: TABLE_START })) {
      const row = decodeStateTableRow(binaryStringToBytes(key), value);
      this.add(row.name, row.id, row.kind);
    }
  }

  get(name: string): StateInfo | undefined {
    return this.byName.get(name);
  }

  getById(id: number): StateInfo | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<StateInfo> {
    return this.byName.values();
  }

  clear(): void {
    this.byName.clear();
    this.byId.clear();
  }

  /** Registers a state (persisting its table row) or checks the kind of a registered one. */
  register(name: string, kind: StateKind): StateInfo {
    const existing = this.byName.get(name);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        throw new StateKindConflictError(name, existing.kind, kind);
      }
      return existing;
    }
    if (this.nextId > MAX_STATE_ID) throw new RangeError(`too many states: at most ${MAX_STATE_ID + 1}`);
    const info = this.add(name, this.nextId, kind);
    this.writeRow(info);
    return info;
  }

  /** Writes the table row of a state (inside or outside a transaction). */
  writeRow(info: StateInfo): void {
    const [key, value] = encodeStateTableRow(info);
    this.db.putSync(bytesToBinaryString(key), value);
  }

  /** The encoded table rows of these state ids, sorted by key. */
  rowsOf(ids: Iterable<number>): Array<[Bytes, Bytes]> {
    const rows: Array<[Bytes, Bytes]> = [];
    for (const id of ids) {
      const info = this.byId.get(id);
      if (info !== undefined) rows.push(encodeStateTableRow(info));
    }
    rows.sort((a, b) => Buffer.compare(a[0], b[0]));
    return rows;
  }

  private add(name: string, id: number, kind: StateKind): StateInfo {
    const info: StateInfo = {
      name,
      id,
      kind,
      idChars: u16BinaryString(id),
      overlay: new Map(),
      mapOverlay: new Map(),
      handle: undefined,
    };
    this.byName.set(name, info);
    this.byId.set(id, info);
    if (id >= this.nextId) this.nextId = id + 1;
    return info;
  }
}
