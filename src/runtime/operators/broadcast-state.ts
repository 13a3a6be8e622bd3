// Broadcast state: a map per descriptor that every parallel instance of a broadcast operator holds
// a copy of. Written by the broadcast side only, so the copies stay equal; checkpointed as operator
// state (each subtask saves its copy) and restored by giving every new subtask one copy.
import { InvalidRestoredStateError, JobConfigError } from '../errors.ts';
import type { KeyValue } from '../../state/index.ts';
import { ReadOnlyBroadcastStateError, UnknownBroadcastStateError } from './two-input-errors.ts';
import type { BroadcastState, ReadOnlyBroadcastState } from './two-input-types.ts';

/**
 * Names a broadcast state: a map from K to V (Flink's MapStateDescriptor for broadcast state).
 * Pass it to `stream.broadcast(descriptor)`; functions read and write it with
 * `ctx.getBroadcastState(descriptor)`. Keys are primitives; values plain data (like records).
 *
 * @example
 * const rules = new BroadcastStateDescriptor<string, Rule>('rules');
 * const ruleStream = env.fromSource(ruleSource, 'rules').broadcast(rules);
 */
export class BroadcastStateDescriptor<K extends KeyValue, V> {
  declare readonly __types?: [K, V];

  constructor(readonly name: string) {
    if (typeof name !== 'string' || name.length === 0) throw new JobConfigError('BroadcastStateDescriptor name', 'must be a non-empty string');
  }
}

/** What one subtask saves of its broadcast states: per state name, its entries. */
export type BroadcastStatesSnapshot = Record<string, Array<[KeyValue, unknown]>>;

type AnyDescriptor = BroadcastStateDescriptor<KeyValue, unknown>;

/** The broadcast states of one operator subtask, with a writable and a read-only view of each. */
export class BroadcastStates {
  private readonly maps = new Map<string, Map<KeyValue, unknown>>();
  private readonly writable = new Map<string, BroadcastState<KeyValue, unknown>>();
  private readonly readOnly = new Map<string, ReadOnlyBroadcastState<KeyValue, unknown>>();

  constructor(
    private readonly operatorUid: string,
    descriptors: readonly AnyDescriptor[],
  ) {
    for (const d of descriptors) {
      if (this.maps.has(d.name)) continue;
      const map = new Map<KeyValue, unknown>();
      this.maps.set(d.name, map);
      this.writable.set(d.name, writableView(map));
      this.readOnly.set(d.name, readOnlyView(map, operatorUid, d.name));
    }
  }

  /** The state for processBroadcastElement. */
  writableState<K extends KeyValue, V>(descriptor: BroadcastStateDescriptor<K, V>): BroadcastState<K, V> {
    return this.lookup(this.writable, descriptor) as unknown as BroadcastState<K, V>;
  }

  /** The state for processElement and onTimer. */
  readOnlyState<K extends KeyValue, V>(descriptor: BroadcastStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V> {
    return this.lookup(this.readOnly, descriptor) as unknown as ReadOnlyBroadcastState<K, V>;
  }

  /**
   * A copy of every state as it is now. Deep, because the checkpoint is written after processing
   * went on, and a value object the function changes in place later must not leak into it.
   */
  snapshot(): BroadcastStatesSnapshot {
    const saved: BroadcastStatesSnapshot = {};
    for (const [name, map] of this.maps) saved[name] = structuredClone([...map.entries()]);
    return saved;
  }

  /**
   * Restores one copy: from the old subtask `subtaskIndex mod old parallelism` (all copies are
   * equal when the function only writes from the broadcast side, so any would do; this one spreads
   * the reads like Flink does). States the job no longer declares are dropped.
   */
  restore(saved: readonly (BroadcastStatesSnapshot | undefined)[], subtaskIndex: number): void {
    if (saved.length === 0) return;
    const copy = saved[subtaskIndex % saved.length] ?? saved.find((s) => s !== undefined);
    if (copy === undefined) return;
    if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) throw new InvalidRestoredStateError(this.operatorUid, `operator '${this.operatorUid}': stored broadcast state is not a map of states`);
    for (const [name, entries] of Object.entries(copy)) {
      const map = this.maps.get(name);
      if (!map) continue;
      if (!Array.isArray(entries) || entries.some((e) => !Array.isArray(e) || e.length !== 2)) {
        throw new InvalidRestoredStateError(this.operatorUid, `operator '${this.operatorUid}': stored broadcast state '${name}' is not a list of [key, value] entries`);
      }
      map.clear();
      for (const [key, value] of entries) map.set(key, value);
    }
  }

  private lookup<S>(views: Map<string, S>, descriptor: AnyDescriptor | BroadcastStateDescriptor<never, never>): S {
    const name = (descriptor as { name?: unknown } | undefined)?.name;
    const view = typeof name === 'string' ? views.get(name) : undefined;
    if (view === undefined) throw new UnknownBroadcastStateError(this.operatorUid, String(name), [...this.maps.keys()]);
    return view;
  }
}

function readers(map: Map<KeyValue, unknown>): ReadOnlyBroadcastState<KeyValue, unknown> {
  return {
    get: (key) => map.get(key),
    contains: (key) => map.has(key),
    entries: () => map.entries(),
    keys: () => map.keys(),
    values: () => map.values(),
    isEmpty: () => map.size === 0,
    get size() {
      return map.size;
    },
  };
}

function writableView(map: Map<KeyValue, unknown>): BroadcastState<KeyValue, unknown> {
  return Object.defineProperties(readers(map), {
    put: { value: (key: KeyValue, value: unknown) => void map.set(key, value) },
    remove: { value: (key: KeyValue) => void map.delete(key) },
    clear: { value: () => map.clear() },
  }) as BroadcastState<KeyValue, unknown>;
}

/** The type has no writers; these throw for callers that get around it (JavaScript, a cast). */
function readOnlyView(map: Map<KeyValue, unknown>, uid: string, name: string): ReadOnlyBroadcastState<KeyValue, unknown> {
  const refuse = (method: string) => () => {
    throw new ReadOnlyBroadcastStateError(uid, name, method);
  };
  return Object.defineProperties(readers(map), {
    put: { value: refuse('put') },
    remove: { value: refuse('remove') },
    clear: { value: refuse('clear') },
  });
}
