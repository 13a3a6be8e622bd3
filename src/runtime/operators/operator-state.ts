// Operator (non-keyed) list state of a user function: checkpointed per subtask and redistributed on
// restore, evenly split or as a union (Flink's OperatorStateStore list states).
import type { ListState } from '../../state/index.ts';
import { JobConfigError } from '../errors.ts';
import type { OperatorStateStore } from './types.ts';

/** How a list is dealt out on restore: `split` evenly over the new subtasks, `union` whole to each. */
export type OperatorListMode = 'split' | 'union';

/** What one subtask saves in a checkpoint: each list with its mode, in registration order. */
export interface OperatorStateSnapshot {
  readonly operatorLists: ReadonlyArray<readonly [name: string, mode: OperatorListMode, values: readonly unknown[]]>;
}

/** A saved subtask state this store can read (storage is hostile input: anything else is refused). */
function isSnapshot(state: unknown): state is OperatorStateSnapshot {
  const lists = (state as { operatorLists?: unknown } | undefined)?.operatorLists;
  return Array.isArray(lists) && lists.every((l) => Array.isArray(l) && l.length === 3 && typeof l[0] === 'string' && (l[1] === 'split' || l[1] === 'union') && Array.isArray(l[2]));
}

/**
 * What subtask `subtaskIndex` of `parallelism` restores from the states of every old subtask (in
 * subtask order). At the same parallelism each subtask keeps its own split lists; otherwise a
 * split list's elements (old subtask 0's first) are cut into `parallelism` contiguous parts whose
 * sizes differ by at most one. A union list is every old subtask's elements, concatenated.
 *
 * Throws TypeError for a state that is not operator list state.
 *
 * @example redistributeOperatorLists([{ operatorLists: [['buf', 'split', [1, 2, 3]]] }], 0, 2) // Map { 'buf' => { mode: 'split', values: [1] } }
 */
export function redistributeOperatorLists(
  states: readonly unknown[],
  subtaskIndex: number,
  parallelism: number,
): Map<string, { mode: OperatorListMode; values: unknown[] }> {
  const all = new Map<string, { mode: OperatorListMode; perSubtask: unknown[][] }>();
  states.forEach((state, old) => {
    if (state === undefined || state === null) return;
    if (!isSnapshot(state)) throw new TypeError(`the state of old subtask ${old} is not operator list state`);
    for (const [name, mode, values] of state.operatorLists) {
      const entry = all.get(name) ?? { mode, perSubtask: states.map(() => []) };
      all.set(name, entry);
      entry.perSubtask[old] = [...values];
    }
  });
  const out = new Map<string, { mode: OperatorListMode; values: unknown[] }>();
  for (const [name, { mode, perSubtask }] of all) {
    if (mode === 'union') {
      out.set(name, { mode, values: perSubtask.flat() });
    } else if (states.length === parallelism) {
      out.set(name, { mode, values: perSubtask[subtaskIndex] ?? [] });
    } else {
      const flat = perSubtask.flat();
      const from = Math.floor((subtaskIndex * flat.length) / parallelism);
      const to = Math.floor(((subtaskIndex + 1) * flat.length) / parallelism);
      out.set(name, { mode, values: flat.slice(from, to) });
    }
  }
  return out;
}

class OperatorListState<T> implements ListState<T> {
  constructor(public values: T[]) {}

  get(): readonly T[] {
    return this.values;
  }

  add(value: T): void {
    this.values.push(value);
  }

  addAll(values: readonly T[]): void {
    for (const v of values) this.values.push(v);
  }

  update(values: readonly T[]): void {
    this.values = values.slice();
  }

  clear(): void {
    this.values = [];
  }
}

/**
 * The operator state of one operator subtask: restored before `open`, handed to the user function
 * through its runtime context, snapshotted at each barrier.
 */
export class OperatorStateBackend implements OperatorStateStore {
  private readonly lists = new Map<string, { mode: OperatorListMode; state: OperatorListState<unknown> }>();
  private restored = new Map<string, { mode: OperatorListMode; values: unknown[] }>();

  constructor(
    private readonly uid: string,
    private readonly subtaskIndex: number,
    private readonly parallelism: number,
  ) {}

  listState<T>(name: string): ListState<T> {
    return this.list<T>(name, 'split');
  }

  unionListState<T>(name: string): ListState<T> {
    return this.list<T>(name, 'union');
  }

  /** Whether any list was registered (a function without operator state adds nothing to checkpoints). */
  get used(): boolean {
    return this.lists.size > 0 || this.restored.size > 0;
  }

  /**
   * The lists now, copied (the snapshot is written after the barrier while processing goes on).
   * Lists restored but not registered (yet) are kept as they were restored, so nothing is lost
   * when a function registers its state lazily.
   */
  snapshot(): OperatorStateSnapshot | undefined {
    if (!this.used) return undefined;
    const operatorLists: Array<[string, OperatorListMode, unknown[]]> = [];
    for (const [name, { mode, state }] of this.lists) operatorLists.push([name, mode, state.values.slice()]);
    for (const [name, { mode, values }] of this.restored) if (!this.lists.has(name)) operatorLists.push([name, mode, values.slice()]);
    return { operatorLists };
  }

  /** Takes this subtask's share of the old subtasks' states (see {@link redistributeOperatorLists}). */
  restore(states: readonly unknown[]): void {
    try {
      this.restored = redistributeOperatorLists(states, this.subtaskIndex, this.parallelism);
    } catch (error) {
      // Storage is hostile input, and the operator at this uid may have been another kind of operator.
      throw new JobConfigError(`restored state of operator '${this.uid}'`, `${(error as Error).message} (was another kind of operator at this uid?)`);
    }
  }

  private list<T>(name: string, mode: OperatorListMode): ListState<T> {
    if (typeof name !== 'string' || name.length === 0) throw new JobConfigError(`operator state of '${this.uid}'`, 'a list state name must be a non-empty string');
    const existing = this.lists.get(name);
    if (existing) {
      if (existing.mode !== mode) throw this.modeMismatch(name, existing.mode, mode);
      return existing.state as OperatorListState<T>;
    }
    const restored = this.restored.get(name);
    if (restored && restored.mode !== mode) throw this.modeMismatch(name, restored.mode, mode);
    const state = new OperatorListState<unknown>(restored ? restored.values : []);
    this.lists.set(name, { mode, state });
    return state as OperatorListState<T>;
  }

  private modeMismatch(name: string, was: OperatorListMode, asked: OperatorListMode): JobConfigError {
    const kind = (m: OperatorListMode) => (m === 'union' ? 'unionListState' : 'listState');
    return new JobConfigError(`operator state '${name}' of '${this.uid}'`, `is a ${kind(was)}; cannot use it as ${kind(asked)}`);
  }
}
