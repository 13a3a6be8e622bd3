// What a completed checkpoint holds, per operator uid and keyed state name: read from storage alone.
import { Packr } from 'msgpackr';
import { sharedChunkKey } from '../checkpoint/index.ts';
import { scopeStorage } from '../checkpoint/scoped-storage.ts';
import { readMetadata } from '../checkpoint/index.ts';
import { openStorage } from '../checkpoint/storage/open-storage.ts';
import type { CheckpointStorage } from '../checkpoint/storage/types.ts';
import type { KeyGroupChain } from '../checkpoint/index.ts';
import { bytesToBinaryString, decodeStateKey, decodeStateTableRow, isStateTableKey } from '../state/index.ts';
import { lmdbValuePackr as lmdbPackr } from '../state/index.ts';
import { decodeChunk } from '../state/index.ts';
import type { StateKind } from '../state/index.ts';

/** One keyed state (by name) of one operator, as a checkpoint holds it. */
export interface StoredStateSummary {
  readonly kind: StateKind;
  /** Live entries (keys; for map state: key and map key pairs) over all key groups. */
  readonly entries: number;
  /**
   * Distinct shapes of the stored values (see {@link shapeOf}), sorted: for map state
   * `'<map key type> => <value shape>'`, for list state the shape of each element.
   */
  readonly shapes: readonly string[];
}

/** What one operator uid has in a checkpoint. */
export interface StoredOperatorSummary {
  /** Keyed state by state name (only states with at least one live entry: an unwritten state leaves no trace). */
  readonly keyed: Readonly<Record<string, StoredStateSummary>>;
  /** Some subtask saved non-keyed state (source splits, staged sink transactions, timers). */
  readonly operatorState: boolean;
}

/** The state inventory of one checkpoint. */
export interface StoredStates {
  readonly checkpointId: number;
  readonly operators: Readonly<Record<string, StoredOperatorSummary>>;
}

/** Values looked at per state: enough for a test's input, bounded for a big one. */
const MAX_SAMPLED_VALUES = 10_000;
/** Distinct shapes kept per state; more are summed up as one '…'. */
const MAX_SHAPES = 16;

// The heap backend's chunk encoding (src/runtime/worker/worker-state-backends.ts): the same
// options, or Map values would decode as plain objects.
const heapPackr = new Packr({ useRecords: true, moreTypes: true, useBigIntExtension: true });

/**
 * A short description of a value's structure: `number`, `string`, `null`, `Map`, `bytes`,
 * `array<number>`, `{count: number, last: string}` (object keys sorted; two levels deep, deeper
 * objects and arrays are just `object` / `array`). Values, not types: an empty array is
 * `array<?>`, an optional field absent in one value makes another shape.
 *
 * @example shapeOf({ n: 1, tags: ['a'] }); // '{n: number, tags: array<string>}'
 */
export function shapeOf(value: unknown, depth = 0): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (depth >= 2) return 'array';
    if (value.length === 0) return 'array<?>';
    const elements = new Set<string>();
    for (const e of value.slice(0, 8)) elements.add(shapeOf(e, depth + 1));
    return `array<${[...elements].sort().join(' | ')}>`;
  }
  if (value instanceof Map) return 'Map';
  if (value instanceof Set) return 'Set';
  if (value instanceof Date) return 'Date';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') {
    if (depth >= 2) return 'object';
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${k}: ${shapeOf((value as Record<string, unknown>)[k], depth + 1)}`).join(', ')}}`;
  }
  return typeof value;
}

class StateAccumulator {
  entries = 0;
  private readonly shapes = new Set<string>();
  private sampled = 0;
  private overflow = false;

  constructor(readonly kind: StateKind) {}

  add(shapeOfEntry: () => string[]): void {
    this.entries++;
    if (this.sampled >= MAX_SAMPLED_VALUES) return;
    this.sampled++;
    for (const s of shapeOfEntry()) {
      if (this.shapes.size < MAX_SHAPES) this.shapes.add(s);
      else if (!this.shapes.has(s)) this.overflow = true;
    }
  }

  summary(): StoredStateSummary {
    return { kind: this.kind, entries: this.entries, shapes: [...[...this.shapes].sort(), ...(this.overflow ? ['…'] : [])] };
  }
}

interface LiveEntry {
  readonly name: string;
  readonly kind: StateKind;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Rebuilds the live entries of one LMDB chain (base, then deltas). State ids are per backend, so
 * each chunk names its own in its table rows: entries are matched across chunks by state name.
 */
async function lmdbChainEntries(storage: CheckpointStorage, chain: KeyGroupChain): Promise<LiveEntry[]> {
  const live = new Map<string, LiveEntry | null>();
  for (const ref of chain.chain) {
    const chunk = decodeChunk(await storage.get(sharedChunkKey(ref.id)), ref.id);
    const rows = new Map<number, { name: string; kind: StateKind }>();
    for (const [key, value] of chunk.entries) {
      if (isStateTableKey(key) && value !== null) {
        const row = decodeStateTableRow(key, value);
        rows.set(row.id, row);
      }
    }
    for (const [key, value] of chunk.entries) {
      if (isStateTableKey(key)) continue;
      const id = (key[2] << 8) | key[3];
      const row = rows.get(id) ?? { name: `#${id}`, kind: 'value' as const };
      // Key group and user/map key without the backend's state id: the same entry in every chunk.
      const logical = `${row.name}\0${bytesToBinaryString(key, 0, 2)}${bytesToBinaryString(key, 4)}`;
      live.set(logical, value === null ? null : { name: row.name, kind: row.kind, key, value });
    }
  }
  return [...live.values()].filter((e): e is LiveEntry => e !== null);
}

function addLmdbEntry(states: Map<string, StateAccumulator>, e: LiveEntry): void {
  const acc = stateOf(states, e.name, e.kind);
  acc.add(() => {
    if (e.kind === 'list') return lmdbPackr.unpackMultiple(e.value).map((v: unknown) => shapeOf(v));
    const value: unknown = lmdbPackr.unpack(e.value);
    if (e.kind === 'map') return [`${typeof decodeStateKey(e.key).mapKey} => ${shapeOf(value)}`];
    return [shapeOf(value)];
  });
}

/** The heap backend stores whole chunks of `[keyGroup, state, kind, key] → value` (map state: its entries). */
async function addHeapChain(storage: CheckpointStorage, chain: KeyGroupChain, states: Map<string, StateAccumulator>): Promise<void> {
  const live = new Map<string, { state: string; kind: StateKind; value: Uint8Array } | null>();
  for (const ref of chain.chain) {
    const chunk = decodeChunk(await storage.get(sharedChunkKey(ref.id)), ref.id);
    for (const [key, value] of chunk.entries) {
      const [, state, kind] = heapPackr.unpack(key) as [number, string, StateKind, unknown];
      live.set(bytesToBinaryString(key), value === null ? null : { state, kind, value });
    }
  }
  for (const e of live.values()) {
    if (e === null) continue;
    const value: unknown = heapPackr.unpack(e.value);
    if (e.kind === 'map') {
      for (const [k, v] of value as Array<[unknown, unknown]>) stateOf(states, e.state, 'map').add(() => [`${typeof k} => ${shapeOf(v)}`]);
    } else if (e.kind === 'list') {
      stateOf(states, e.state, 'list').add(() => (value as unknown[]).map((v) => shapeOf(v)));
    } else {
      stateOf(states, e.state, 'value').add(() => [shapeOf(value)]);
    }
  }
}

function stateOf(states: Map<string, StateAccumulator>, name: string, kind: StateKind): StateAccumulator {
  let acc = states.get(name);
  if (!acc) {
    acc = new StateAccumulator(kind);
    states.set(name, acc);
  }
  return acc;
}

/**
 * Reads checkpoint `checkpointId` of job `jobId` under the storage root `storageRoot`: per
 * operator uid its keyed states (name, kind, live entries, value shapes) and whether it saved
 * non-keyed state. `backend` says how the chunks are encoded (the job's `stateBackend`).
 *
 * @example
 * const states = await readStoredStates(driver.storage, driver.handle.jobId, 3, 'lmdb');
 * states.operators.count.keyed.count; // { kind: 'value', entries: 2, shapes: ['number'] }
 */
export async function readStoredStates(storageRoot: string, jobId: string, checkpointId: number, backend: 'lmdb' | 'heap'): Promise<StoredStates> {
  const storage = scopeStorage(openStorage(storageRoot), jobId);
  try {
    const meta = await readMetadata(storage, checkpointId);
    const operators: Record<string, StoredOperatorSummary> = {};
    for (const op of meta.operators) {
      const states = new Map<string, StateAccumulator>();
      for (const chain of op.keyed) {
        if (backend === 'heap') await addHeapChain(storage, chain, states);
        else for (const e of await lmdbChainEntries(storage, chain)) addLmdbEntry(states, e);
      }
      const keyed: Record<string, StoredStateSummary> = {};
      for (const [name, acc] of [...states].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) keyed[name] = acc.summary();
      operators[op.uid] = { keyed, operatorState: op.subtasks.some((s) => s.state !== null && s.state !== undefined) };
    }
    return { checkpointId, operators };
  } finally {
    await storage.close();
  }
}
