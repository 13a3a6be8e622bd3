// Per-window state of process window functions: all of a window's named states in one MapState entry.
import { BatonError, registerErrors } from '../../../errors/index.ts';
import type { KeyedStateBackend, KeyValue, ListState, MapState, ValueState } from '../../../state/index.ts';
import type { WindowStateStore } from './types.ts';

/** The keyed MapState holding per-window state: window id → { state name → value }. */
export const WINDOW_STATE_NAME = 'window-state';

/** Keyed state names of the window operators start with this; user state must not. */
const RESERVED_PREFIX = 'window-';

type Record_ = Record<string, unknown>;

/**
 * A process window function used `windowState` on merging (session) windows. Flink refuses it
 * too: a merged window's state would have to merge state of unknown meaning. `code` is stable.
 *
 * @example ctx.windowState.valueState('fired'); // in a session window's process(): throws this
 */
export class WindowStateUnsupportedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_WINDOW_STATE_MERGING';
  override name = 'WindowStateUnsupportedError';
  constructor() {
    super('per-window state (ctx.windowState) is not available for merging (session) windows: keep state in ctx.globalState, keyed by what you need');
  }
}

/**
 * A user state name reused one of the window operator's own names. `code` is stable.
 *
 * @example ctx.globalState.valueState('window-count'); // throws this
 */
export class ReservedWindowStateNameError extends BatonError {
  static override readonly code: string = 'BATON_ERR_RESERVED_STATE_NAME';
  override name = 'ReservedWindowStateNameError';
  readonly stateName: string;
  constructor(stateName: string) {
    super(`state name '${stateName}' is reserved: names starting with '${RESERVED_PREFIX}' belong to the window operator`);
    this.stateName = stateName;
  }
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name.startsWith(RESERVED_PREFIX)) throw new ReservedWindowStateNameError(String(name));
  return name;
}

/** State of the current key, shared by its windows (names checked against the operator's own). */
export function globalWindowState(state: KeyedStateBackend): WindowStateStore {
  return {
    valueState: (name) => state.valueState(checkName(name)),
    listState: (name) => state.listState(checkName(name)),
    mapState: (name) => state.mapState(checkName(name)),
  };
}

/** A store whose every state refuses use: per-window state of merging windows. */
export const unsupportedWindowState: WindowStateStore = {
  valueState: () => {
    throw new WindowStateUnsupportedError();
  },
  listState: () => {
    throw new WindowStateUnsupportedError();
  },
  mapState: () => {
    throw new WindowStateUnsupportedError();
  },
};

/**
 * Per-window state of the current key: every state of window `windowId()` lives in one entry of
 * {@link WINDOW_STATE_NAME}, so purging a window removes them all at once, whatever names were
 * used (also ones written before a restore). Meant for small state: each access reads the entry.
 */
export class PerWindowState implements WindowStateStore {
  private readonly entries: MapState<number, Record_>;

  constructor(
    state: KeyedStateBackend,
    /** The window the handles act on: read at each access, so a handle follows the window being evaluated. */
    private readonly windowId: () => number,
  ) {
    this.entries = state.mapState<number, Record_>(WINDOW_STATE_NAME);
  }

  /** Removes every state of window `id` of the current key. */
  clearWindow(id: number): void {
    // A read first: most windows never had state, and a removal is a write (a tombstone) all the same.
    if (this.entries.contains(id)) this.entries.remove(id);
  }

  read(name: string): unknown {
    return this.entries.get(this.windowId())?.[name];
  }

  write(name: string, value: unknown): void {
    const id = this.windowId();
    const next: Record_ = { ...this.entries.get(id) };
    if (value === undefined) delete next[name];
    else next[name] = value;
    if (Object.keys(next).length === 0) this.entries.remove(id);
    else this.entries.put(id, next);
  }

  valueState<T>(name: string): ValueState<T> {
    return {
      value: () => this.read(name) as T | undefined,
      update: (value) => this.write(name, value),
      clear: () => this.write(name, undefined),
    };
  }

  listState<T>(name: string): ListState<T> {
    const get = (): readonly T[] => (this.read(name) as T[] | undefined) ?? [];
    const set = (values: readonly T[]) => this.write(name, values.length === 0 ? undefined : values);
    return {
      get,
      add: (value) => set([...get(), value]),
      addAll: (values) => set([...get(), ...values]),
      update: (values) => set([...values]),
      clear: () => this.write(name, undefined),
    };
  }

  mapState<UK extends KeyValue, UV>(name: string): MapState<UK, UV> {
    return new PerWindowMapState<UK, UV>(this, name);
  }
}

/** A map of one window, stored as its entries in insertion order. */
class PerWindowMapState<UK extends KeyValue, UV> implements MapState<UK, UV> {
  constructor(
    private readonly store: PerWindowState,
    private readonly name: string,
  ) {}

  private pairs(): Array<[UK, UV]> {
    return (this.store.read(this.name) as Array<[UK, UV]> | undefined) ?? [];
  }

  private save(pairs: Array<[UK, UV]>): void {
    this.store.write(this.name, pairs.length === 0 ? undefined : pairs);
  }

  get(userKey: UK): UV | undefined {
    return this.pairs().find(([k]) => sameKey(k, userKey))?.[1];
  }

  put(userKey: UK, value: UV): void {
    const pairs = this.pairs().filter(([k]) => !sameKey(k, userKey));
    pairs.push([userKey, value]);
    this.save(pairs);
  }

  remove(userKey: UK): void {
    this.save(this.pairs().filter(([k]) => !sameKey(k, userKey)));
  }

  contains(userKey: UK): boolean {
    return this.pairs().some(([k]) => sameKey(k, userKey));
  }

  entries(): IterableIterator<[UK, UV]> {
    return this.pairs().values();
  }

  keys(): IterableIterator<UK> {
    return this.pairs()
      .map(([k]) => k)
      .values();
  }

  values(): IterableIterator<UV> {
    return this.pairs()
      .map(([, v]) => v)
      .values();
  }

  isEmpty(): boolean {
    return this.pairs().length === 0;
  }

  clear(): void {
    this.save([]);
  }
}

/** Map-key equality of keyed state: SameValueZero (0 and -0 alike, 1 and '1' apart). */
function sameKey(a: KeyValue, b: KeyValue): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

registerErrors(WindowStateUnsupportedError, ReservedWindowStateNameError);
