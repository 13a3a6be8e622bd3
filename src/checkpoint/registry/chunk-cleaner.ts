// Storage side of the shared-chunk registry: rebuild it from metadata, delete what nothing references.
// Orphans (chunks no completed checkpoint references) are found by the sweep (sweep.ts), the one place that removes them.
import { CheckpointNotFoundError, CorruptCheckpointError } from '../errors.ts';
import { METADATA_FILE, checkpointDir, metadataKey, sharedChunkKey } from '../layout.ts';
import { type SkippedCheckpoint, listCheckpoints, readMetadata } from '../status/checkpoint-status.ts';
import { pinnedCheckpoints, readPins } from '../status/follower-pin.ts';
import type { CheckpointStorage } from '../storage/types.ts';
import type { CheckpointMetadata } from '../types.ts';
import { SharedChunkRegistry, chunkIdsOf } from './shared-chunk-registry.ts';

/** A registry rebuilt from storage, and the COMPLETED checkpoints whose metadata could not be read. */
export interface RebuiltRegistry {
  readonly registry: SharedChunkRegistry;
  /** Oldest first. A corrupt one's chunks are unknown; a vanished one was discarded meanwhile. */
  readonly skipped: readonly SkippedCheckpoint[];
}

/**
 * Builds the registry from the metadata of every COMPLETED checkpoint in storage. Deriving it
 * from storage (never from a separate mutable file) means a restarted job, the CLI or another
 * deployment all see the same references as the files a restore would read.
 *
 * @example const { registry, skipped } = await rebuildRegistry(storage);
 */
export async function rebuildRegistry(storage: CheckpointStorage): Promise<RebuiltRegistry> {
  const completed = (await listCheckpoints(storage)).filter((c) => c.status === 'COMPLETED');
  const read = await Promise.all(
    completed.map(async ({ id }): Promise<{ id: number; metadata: CheckpointMetadata } | SkippedCheckpoint> => {
      try {
        return { id, metadata: await readMetadata(storage, id) };
      } catch (error) {
        // Storage failures propagate: a registry missing a readable checkpoint would free its chunks.
        if (error instanceof CorruptCheckpointError || error instanceof CheckpointNotFoundError) return { id, error };
        throw error;
      }
    }),
  );
  const registry = new SharedChunkRegistry();
  const skipped: SkippedCheckpoint[] = [];
  for (const entry of read) {
    if ('error' in entry) skipped.push(entry);
    else registry.register(entry.id, chunkIdsOf(entry.metadata));
  }
  return { registry, skipped };
}

/**
 * Deletes those of `candidateIds` that `registry` says no retained checkpoint references (checked
 * again here, since the registry may have changed since the candidates were chosen). Returns the
 * deleted ids, sorted.
 *
 * @example await deleteUnreferenced(storage, registry, registry.release(3));
 */
export async function deleteUnreferenced(storage: CheckpointStorage, registry: SharedChunkRegistry, candidateIds: Iterable<string>): Promise<string[]> {
  const ids = [...new Set(candidateIds)].filter((id) => !registry.isReferenced(id)).sort();
  // Keys are built (and validated) before anything is deleted.
  const keys = ids.map(sharedChunkKey);
  if (keys.length > 0) await storage.delete(keys);
  return ids;
}

/**
 * Discards checkpoint n: deletes its `_metadata` first, so that from then on nobody takes it for
 * COMPLETED and starts restoring from files that are about to go; then the shared chunks only it
 * used; then the rest of `chk-<n>/`. A crash part way leaves leftovers, never a broken COMPLETED
 * checkpoint. Returns the deleted chunk ids.
 *
 * @example for (const n of planRetention(completed, 2)) await discardCheckpoint(storage, registry, n);
 */
export async function discardCheckpoint(storage: CheckpointStorage, registry: SharedChunkRegistry, n: number): Promise<string[]> {
  await storage.delete([metadataKey(n)]);
  const deleted = await deleteUnreferenced(storage, registry, registry.release(n));
  const rest = await storage.list(checkpointDir(n));
  if (rest.length > 0) await storage.delete(rest);
  return deleted;
}

/** Result of {@link discardUnlessPinned}. */
export interface DiscardReport {
  /** Shared chunks deleted, sorted. */
  readonly deleted: readonly string[];
  /**
   * Checkpoints kept because a live follower pin names them, or not reached because the discard
   * was told to pause (discard them again later), sorted.
   */
  readonly held: readonly number[];
}

/**
 * Discards completed checkpoints `ids` (retention), with the registry rebuilt from storage so that
 * chunks any other completed checkpoint uses (of this run or an earlier one) stay. While some
 * completed checkpoint's metadata is corrupt its chunks are unknown: then only the folders go.
 * Checkpoints a live follower pin names (a handover's deployment B reading them) are held, not
 * discarded: the caller retries them later. Pins are read before anything is deleted, so a pin
 * written before this call started is honoured; one written while it runs may be too late, which
 * the follower survives (it skips a checkpoint that vanished).
 *
 * `paused`, asked before the registry is read and before each checkpoint goes: when it says so,
 * the discard stops there (between two checkpoints, never inside one) and reports what it did not
 * reach as held. The running job pauses its housekeeping while a handover's successor takes over
 * from the same store, and a discard that had begun just before would otherwise run on inside the
 * downtime.
 *
 * @example const { held } = await discardUnlessPinned(jobStorage, [3, 4], Date.now());
 */
export async function discardUnlessPinned(storage: CheckpointStorage, ids: readonly number[], now: number, paused: () => boolean = () => false): Promise<DiscardReport> {
  const pinned = pinnedCheckpoints(await readPins(storage, now));
  const held = ids.filter((id) => pinned.has(id));
  const discard = ids.filter((id) => !pinned.has(id));
  const report = (deleted: string[], notReached: readonly number[]) => ({ deleted: deleted.sort(), held: [...held, ...notReached].sort((a, b) => a - b) });
  if (discard.length === 0 || paused()) return report([], discard);
  const { registry, skipped } = await rebuildRegistry(storage);
  const chunksUnknown = skipped.some((s) => s.error instanceof CorruptCheckpointError);
  const deleted: string[] = [];
  for (const [i, id] of discard.entries()) {
    if (paused()) return report(deleted, discard.slice(i));
    if (chunksUnknown) await removeCheckpointFolder(storage, id);
    else deleted.push(...(await discardCheckpoint(storage, registry, id)));
  }
  return report(deleted, []);
}

/** Deletes `chk-<n>/`, its `_metadata` first: cut short, it leaves leftovers, never a COMPLETED checkpoint missing files. */
export async function removeCheckpointFolder(storage: CheckpointStorage, n: number): Promise<void> {
  const keys = await storage.list(checkpointDir(n));
  if (keys.includes(metadataKey(n))) await storage.delete([metadataKey(n)]);
  const rest = keys.filter((k) => !k.endsWith(`/${METADATA_FILE}`));
  if (rest.length > 0) await storage.delete(rest);
}
