// Keyed state with a time-to-live: each value is stored with the processing time of its last
// access, so expiry survives checkpoints, restores and rescaling like the value itself.
import type { ListState, MapState, StateSnapshotFilter, ValueState } from '../types.ts';
import type { ResolvedTtl } from './ttl-config.ts';
import { StateTtlMismatchError } from './errors.ts';

/**
 * How a TTL'd value is stored: the user's value and the processing time (ms) it was last written
 * (or read, with update on read). Like Flink's TtlValue: the timestamp, not the expiry, is kept,
 * so a job restored with another TTL applies the new one.
 */
export type TtlStored<T> = readonly [value: T, lastAccess: number];

/** Processing time now, in ms (the operator's clock). */
export type Clock = () => number;

export function isExpired(lastAccess: number, ttlMs: number, now: number): boolean {
  return lastAccess + ttlMs <= now;
}

function checked<T>(name: string, stored: unknown): TtlStored<T> {
  if (!Array.isArray(stored) || stored.length !== 2 || typeof stored[1] !== 'number') throw new StateTtlMismatchError(name);
  return stored as unknown as TtlStored<T>;
}

/**
 * The snapshot filter of a TTL'd state: full snapshots leave expired values out (Flink's
 * cleanupFullSnapshot). Values that are not TTL-shaped are kept, never dropped.
 */
export function ttlSnapshotFilter(ttl: ResolvedTtl, clock: Clock): StateSnapshotFilter {
  return {
    keep(stored) {
      if (!Array.isArray(stored) || stored.length !== 2 || typeof stored[1] !== 'number') return true;
      return !isExpired(stored[1], ttl.ms, clock());
    },
  };
}

/**
 * ValueState with a TTL on top of a value state holding {@link TtlStored} values. An expired
 * value reads as absent (or, with visibility 'return-expired-if-not-cleaned', is returned once)
 * and is cleared on that read.
 */
export class TtlValueState<T> implements ValueState<T> {
  constructor(
    private readonly name: string,
    private readonly inner: ValueState<TtlStored<T>>,
    private readonly ttl: ResolvedTtl,
    private readonly clock: Clock,
  ) {}

  value(): T | undefined {
    const raw = this.inner.value();
    if (raw === undefined) return undefined;
    const [value, lastAccess] = checked<T>(this.name, raw);
    const now = this.clock();
    if (isExpired(lastAccess, this.ttl.ms, now)) {
      this.inner.clear();
      return this.ttl.returnExpired ? value : undefined;
    }
    if (this.ttl.updateOnRead) this.inner.update([value, now]);
    return value;
  }

  update(value: T): void {
    if (value === undefined) this.inner.clear();
    else this.inner.update([value, this.clock()]);
  }

  clear(): void {
    this.inner.clear();
  }
}

/**
 * MapState with a TTL per map entry (as Flink). Iterations read every entry first, clean up the
 * expired ones (and refresh the others with update on read), then iterate what was live.
 */
export class TtlMapState<UK, UV> implements MapState<UK, UV> {
  constructor(
    private readonly name: string,
    private readonly inner: MapState<UK, TtlStored<UV>>,
    private readonly ttl: ResolvedTtl,
    private readonly clock: Clock,
  ) {}

  /** The live entry's value wrapped in a one-element array, or undefined when absent or expired (and not returned). */
  private read(userKey: UK): [UV] | undefined {
    const raw = this.inner.get(userKey);
    if (raw === undefined) return undefined;
    const [value, lastAccess] = checked<UV>(this.name, raw);
    const now = this.clock();
    if (isExpired(lastAccess, this.ttl.ms, now)) {
      this.inner.remove(userKey);
      return this.ttl.returnExpired ? [value] : undefined;
    }
    if (this.ttl.updateOnRead) this.inner.put(userKey, [value, now]);
    return [value];
  }

  get(userKey: UK): UV | undefined {
    return this.read(userKey)?.[0];
  }

  put(userKey: UK, value: UV): void {
    this.inner.put(userKey, [value, this.clock()]);
  }

  remove(userKey: UK): void {
    this.inner.remove(userKey);
  }

  contains(userKey: UK): boolean {
    return this.read(userKey) !== undefined;
  }

  /**
   * Every entry read now, cleaned up and refreshed before the caller sees any: writes the caller
   * makes while iterating are never undone by a deferred cleanup.
   */
  private live(): Array<[UK, UV]> {
    const now = this.clock();
    const all: Array<[UK, TtlStored<UV>]> = [];
    for (const [k, raw] of this.inner.entries()) all.push([k, checked<UV>(this.name, raw)]);
    const out: Array<[UK, UV]> = [];
    for (const [k, [value, lastAccess]] of all) {
      if (isExpired(lastAccess, this.ttl.ms, now)) {
        this.inner.remove(k);
        if (this.ttl.returnExpired) out.push([k, value]);
        continue;
      }
      if (this.ttl.updateOnRead) this.inner.put(k, [value, now]);
      out.push([k, value]);
    }
    return out;
  }

  entries(): IterableIterator<[UK, UV]> {
    return this.live()[Symbol.iterator]();
  }

  keys(): IterableIterator<UK> {
    return this.live()
      .map(([k]) => k)
      [Symbol.iterator]();
  }

  values(): IterableIterator<UV> {
    return this.live()
      .map(([, v]) => v)
      [Symbol.iterator]();
  }

  isEmpty(): boolean {
    return this.live().length === 0;
  }

  clear(): void {
    this.inner.clear();
  }
}

/** ListState with a TTL per element (as Flink): expired elements are dropped when the list is read. */
export class TtlListState<T> implements ListState<T> {
  constructor(
    private readonly name: string,
    private readonly inner: ListState<TtlStored<T>>,
    private readonly ttl: ResolvedTtl,
    private readonly clock: Clock,
  ) {}

  get(): readonly T[] {
    const stored = this.inner.get();
    if (stored.length === 0) return [];
    const now = this.clock();
    const live: Array<TtlStored<T>> = [];
    for (const raw of stored) {
      const element = checked<T>(this.name, raw);
      if (!isExpired(element[1], this.ttl.ms, now)) live.push(element);
    }
    const out = (this.ttl.returnExpired ? stored : live).map(([value]) => value);
    if (live.length < stored.length) this.inner.update(this.ttl.updateOnRead ? live.map(([v]) => [v, now] as const) : live);
    else if (this.ttl.updateOnRead) this.inner.update(live.map(([v]) => [v, now] as const));
    return out;
  }

  add(value: T): void {
    this.inner.add([value, this.clock()]);
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    const now = this.clock();
    this.inner.addAll(values.map((v) => [v, now] as const));
  }

  update(values: readonly T[]): void {
    const now = this.clock();
    this.inner.update(values.map((v) => [v, now] as const));
  }

  clear(): void {
    this.inner.clear();
  }
}
