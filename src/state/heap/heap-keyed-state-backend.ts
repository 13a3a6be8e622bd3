// Keyed state held on the JS heap: one Map from key to entry per registered state name.
import { NoCurrentKeyError, StateBackendDisposedError, StateKindConflictError } from '../errors.ts';
import { keyGroupFor, MAX_MAX_PARALLELISM } from '../key-groups.ts';
import type {
  KeyedStateBackend,
  KeyGroupRange,
  KeyValue,
  ListState,
  MapState,
  StateKind,
  StateSnapshotFilter,
  ValueState,
} from '../types.ts';

/** One state entry of one key, as captured by {@link HeapKeyedStateBackend.snapshotEntries}. */
export interface StateSnapshotEntry {
  state: string;
  kind: StateKind;
  key: KeyValue;
  keyGroup: number;
  value: unknown;
}

export interface HeapKeyedStateBackendOptions {
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
}

/**
 * Shared by the backend and all its handles so that `setCurrentKey` is a single field write;
 * `undefined` means no key has been set yet.
 */
interface KeyContext {
  key: KeyValue | undefined;
}

interface StateTable {
  readonly kind: StateKind;
  readonly entries: Map<KeyValue, unknown>;
  readonly handle: ValueState<unknown> | MapState<unknown, unknown> | ListState<unknown>;
}

// Shared so that reads of absent keys allocate nothing.
const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_MAP: ReadonlyMap<never, never> = new Map<never, never>();

function noCurrentKey(): never {
  throw new NoCurrentKeyError();
}

class HeapValueState<T> implements ValueState<T> {
  constructor(
    private readonly ctx: KeyContext,
    private readonly table: Map<KeyValue, T>,
  ) {}

  value(): T | undefined {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    return this.table.get(key);
  }

  update(value: T): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    // Storing undefined would keep a key alive that reads exactly like an absent one.
    if (value === undefined) this.table.delete(key);
    else this.table.set(key, value);
  }

  clear(): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    this.table.delete(key);
  }
}

class HeapMapState<UK, UV> implements MapState<UK, UV> {
  constructor(
    private readonly ctx: KeyContext,
    private readonly table: Map<KeyValue, Map<UK, UV>>,
  ) {}

  private current(): Map<UK, UV> | undefined {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    return this.table.get(key);
  }

  get(userKey: UK): UV | undefined {
    return this.current()?.get(userKey);
  }

  put(userKey: UK, value: UV): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    const map = this.table.get(key);
    if (map === undefined) this.table.set(key, new Map([[userKey, value]]));
    else map.set(userKey, value);
  }

  remove(userKey: UK): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    const map = this.table.get(key);
    if (map === undefined) return;
    map.delete(userKey);
    // An empty map must not keep the key counted or snapshotted.
    if (map.size === 0) this.table.delete(key);
  }

  contains(userKey: UK): boolean {
    return this.current()?.has(userKey) ?? false;
  }

  entries(): IterableIterator<[UK, UV]> {
    return (this.current() ?? (EMPTY_MAP as ReadonlyMap<UK, UV>)).entries();
  }

  keys(): IterableIterator<UK> {
    return (this.current() ?? (EMPTY_MAP as ReadonlyMap<UK, UV>)).keys();
  }

  values(): IterableIterator<UV> {
    return (this.current() ?? (EMPTY_MAP as ReadonlyMap<UK, UV>)).values();
  }

  isEmpty(): boolean {
    // Empty maps are never stored, so presence of the entry means non-empty.
    return this.current() === undefined;
  }

  clear(): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    this.table.delete(key);
  }
}

class HeapListState<T> implements ListState<T> {
  constructor(
    private readonly ctx: KeyContext,
    private readonly table: Map<KeyValue, T[]>,
  ) {}

  /** The stored array itself (not a copy), to keep reads allocation-free; do not mutate it. */
  get(): readonly T[] {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    return this.table.get(key) ?? EMPTY_LIST;
  }

  add(value: T): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    const list = this.table.get(key);
    if (list === undefined) this.table.set(key, [value]);
    else list.push(value);
  }

  addAll(values: readonly T[]): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    if (values.length === 0) return;
    const list = this.table.get(key);
    if (list === undefined) this.table.set(key, values.slice());
    else for (const v of values) list.push(v);
  }

  update(values: readonly T[]): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    // Copy so later add() calls never write into the caller's array.
    if (values.length === 0) this.table.delete(key);
    else this.table.set(key, values.slice());
  }

  clear(): void {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    this.table.delete(key);
  }
}

function filterMap(map: Map<unknown, unknown>, filter: StateSnapshotFilter): Map<unknown, unknown> {
  const kept = new Map<unknown, unknown>();
  for (const [k, v] of map) if (filter.keep(v)) kept.set(k, v);
  return kept;
}

export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  private readonly ctx: KeyContext = { key: undefined };
  private readonly tables = new Map<string, StateTable>();
  private readonly filters = new Map<string, StateSnapshotFilter>();
  private disposed = false;

  constructor(options: HeapKeyedStateBackendOptions) {
    const { keyGroupRange, maxParallelism } = options;
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
    this.keyGroupRange = { start, end };
    this.maxParallelism = maxParallelism;
  }

  setCurrentKey(key: KeyValue): void {
    this.ctx.key = key;
  }

  getCurrentKey(): KeyValue {
    const key = this.ctx.key;
    if (key === undefined) noCurrentKey();
    return key;
  }

  valueState<T>(name: string): ValueState<T> {
    return this.table(name, 'value').handle as ValueState<T>;
  }

  mapState<UK, UV>(name: string): MapState<UK, UV> {
    return this.table(name, 'map').handle as MapState<UK, UV>;
  }

  listState<T>(name: string): ListState<T> {
    return this.table(name, 'list').handle as ListState<T>;
  }

  keyCount(): number {
    if (this.tables.size === 0) return 0;
    if (this.tables.size === 1) {
      for (const t of this.tables.values()) return t.entries.size;
    }
    const keys = new Set<KeyValue>();
    for (const t of this.tables.values()) for (const k of t.entries.keys()) keys.add(k);
    return keys.size;
  }

  setSnapshotFilter(name: string, filter: StateSnapshotFilter): void {
    this.filters.set(name, filter);
  }

  /**
   * Every (state, key) entry with its key group, states in registration order and keys in
   * insertion order. Map and list values are copied so the snapshot does not change when the
   * state does; values of value state are shared as-is. With `filtered` (a full snapshot), the
   * snapshot filters leave values out (see {@link setSnapshotFilter}); local state stays as it is.
   */
  snapshotEntries(options: { filtered?: boolean } = {}): StateSnapshotEntry[] {
    const out: StateSnapshotEntry[] = [];
    for (const [state, t] of this.tables) {
      const filter = options.filtered ? this.filters.get(state) : undefined;
      for (const [key, stored] of t.entries) {
        let value: unknown = stored;
        if (t.kind === 'map') value = filter ? filterMap(stored as Map<unknown, unknown>, filter) : new Map(stored as Map<unknown, unknown>);
        else if (t.kind === 'list') value = filter ? (stored as unknown[]).filter((v) => filter.keep(v)) : (stored as unknown[]).slice();
        else if (filter && !filter.keep(stored)) continue;
        // Empty maps and lists are never stored: one emptied by the filter is left out.
        if (filter && t.kind !== 'value' && (t.kind === 'map' ? (value as Map<unknown, unknown>).size : (value as unknown[]).length) === 0) continue;
        out.push({ state, kind: t.kind, key, keyGroup: keyGroupFor(key, this.maxParallelism), value });
      }
    }
    return out;
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.tables.values()) t.entries.clear();
    this.tables.clear();
    this.filters.clear();
    this.ctx.key = undefined;
  }

  private table(name: string, kind: StateKind): StateTable {
    const existing = this.tables.get(name);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        throw new StateKindConflictError(name, existing.kind, kind);
      }
      return existing;
    }
    if (this.disposed) throw new StateBackendDisposedError(name);
    const entries = new Map<KeyValue, unknown>();
    let handle: StateTable['handle'];
    switch (kind) {
      case 'value':
        handle = new HeapValueState<unknown>(this.ctx, entries);
        break;
      case 'map':
        handle = new HeapMapState<unknown, unknown>(this.ctx, entries as Map<KeyValue, Map<unknown, unknown>>);
        break;
      case 'list':
        handle = new HeapListState<unknown>(this.ctx, entries as Map<KeyValue, unknown[]>);
        break;
    }
    const t: StateTable = { kind, entries, handle };
    this.tables.set(name, t);
    return t;
  }
}
