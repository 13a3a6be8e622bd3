// Reference counts of shared chunks across retained checkpoints, and which checkpoints retention drops.
import { BatonInternalError } from '../../errors/index.ts';
import type { CheckpointMetadata } from '../types.ts';

/**
 * Which retained checkpoints use which shared chunks. Pure and in memory: it is rebuilt from
 * storage (see `rebuildRegistry`) rather than persisted, so it can never disagree with the
 * metadata files that another process restores from.
 *
 * @example
 * const registry = new SharedChunkRegistry();
 * registry.register(1, ['a', 'b']);
 * registry.register(2, ['a', 'c']);
 * registry.release(1); // ['b']: 'a' is still used by checkpoint 2
 */
export class SharedChunkRegistry {
  readonly #chunksOf = new Map<number, ReadonlySet<string>>();
  readonly #usersOf = new Map<string, Set<number>>();

  /**
   * Records that checkpoint `checkpointId` uses `chunkIds` (duplicates are fine). Registering the
   * same checkpoint twice throws: ids are never reused, so it would be a bookkeeping bug.
   */
  register(checkpointId: number, chunkIds: Iterable<string>): void {
    if (this.#chunksOf.has(checkpointId)) throw new BatonInternalError(`checkpoint ${checkpointId} is already registered`);
    const chunks = new Set(chunkIds);
    this.#chunksOf.set(checkpointId, chunks);
    for (const id of chunks) {
      const users = this.#usersOf.get(id);
      if (users === undefined) this.#usersOf.set(id, new Set([checkpointId]));
      else users.add(checkpointId);
    }
  }

  /**
   * Forgets checkpoint `checkpointId` and returns, sorted, the chunks no retained checkpoint uses
   * any more (safe to delete). Releasing an unknown checkpoint returns nothing, so a discard can
   * be retried after a crash.
   */
  release(checkpointId: number): string[] {
    const chunks = this.#chunksOf.get(checkpointId);
    if (chunks === undefined) return [];
    this.#chunksOf.delete(checkpointId);
    const freed: string[] = [];
    for (const id of chunks) {
      const users = this.#usersOf.get(id);
      users?.delete(checkpointId);
      if (users === undefined || users.size === 0) {
        this.#usersOf.delete(id);
        freed.push(id);
      }
    }
    return freed.sort();
  }

  /** Retained checkpoints that use `chunkId`, oldest first. @example registry.referencedBy('a') // [1, 2] */
  referencedBy(chunkId: string): number[] {
    return [...(this.#usersOf.get(chunkId) ?? [])].sort((a, b) => a - b);
  }

  /** Whether any retained checkpoint uses `chunkId`. @example if (!registry.isReferenced(id)) ... */
  isReferenced(chunkId: string): boolean {
    return this.#usersOf.has(chunkId);
  }

  /** Registered checkpoints, oldest first. @example registry.retainedCheckpoints() // [2, 3] */
  retainedCheckpoints(): number[] {
    return [...this.#chunksOf.keys()].sort((a, b) => a - b);
  }

  /** Every chunk some retained checkpoint uses, sorted. @example registry.referencedChunks() // ['a', 'c'] */
  referencedChunks(): string[] {
    return [...this.#usersOf.keys()].sort();
  }
}

/**
 * Ids of every shared chunk a checkpoint's metadata references, deduplicated and sorted.
 *
 * @example registry.register(meta.checkpointId, chunkIdsOf(meta));
 */
export function chunkIdsOf(meta: CheckpointMetadata): string[] {
  const ids = new Set<string>();
  for (const op of meta.operators) {
    for (const chain of op.keyed) {
      for (const chunk of chain.chain) ids.add(chunk.id);
      for (const chunk of chain.rebased?.delta ?? []) ids.add(chunk.id);
    }
  }
  // Continuous spilling: segments of in-flight input are shared chunks too.
  for (const ref of meta.channelState ?? []) for (const id of ref.segments ?? []) ids.add(id);
  return [...ids].sort();
}

/**
 * The completed checkpoints to discard so that only the newest `retain` remain, oldest first.
 * `retain` below 1 counts as 1 (as in the coordinator): the newest completed checkpoint is what a
 * crash restores from, so it is never discarded.
 *
 * @example planRetention([3, 1, 2, 4], 2) // [1, 2]
 */
export function planRetention(completedIds: readonly number[], retain: number): number[] {
  if (!Number.isInteger(retain)) throw new RangeError(`retain must be an integer, got ${retain}`);
  const sorted = [...new Set(completedIds)].sort((a, b) => a - b);
  return sorted.slice(0, Math.max(0, sorted.length - Math.max(1, retain)));
}
