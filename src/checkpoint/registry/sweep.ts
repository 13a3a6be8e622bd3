// Keeps a job directory bounded: retention over every completed checkpoint in it, and a sweep of what failed or crashed writes left.
import { CorruptMetadataError } from '../errors.ts';
import { chunkCheckpointId, folderPrefix, HANDOVER_DIR, isSpillSegmentId, parseSharedChunkKey, SHARED_DIR } from '../layout.ts';
import { listCheckpoints } from '../status/checkpoint-status.ts';
import { pinnedCheckpoints, readPins } from '../status/follower-pin.ts';
import { handoverReportsBeyond } from '../status/stop-request.ts';
import type { CheckpointStorage } from '../storage/types.ts';
import { deleteUnreferenced, discardCheckpoint, rebuildRegistry, removeCheckpointFolder } from './chunk-cleaner.ts';
import { planRetention } from './shared-chunk-registry.ts';

/** What a sweep may touch. Everything the running job may still write or read is outside it. */
export interface SweepScope {
  /** Completed checkpoints to keep (the newest ones); the rest are discarded. */
  readonly retain: number;
  /**
   * Checkpoint ids from this one on are left alone, folders and the chunks named after them: they
   * may belong to the running job (in flight or still to come). While it runs, pass the newest
   * completed checkpoint plus one; at a takeover, the restored checkpoint plus one (newer folders
   * keep the new run from reusing their ids).
   */
  readonly activeFrom: number;
  /**
   * Spilled in-flight segments (`spill-…`) carry no checkpoint id, so only a sweep at a takeover
   * (no log of the new run exists yet) may remove unreferenced ones.
   */
  readonly spillSegments: boolean;
  /** Temporary files of atomic writes last modified before this (epoch ms) are removed; none if absent. */
  readonly temporariesBefore?: number;
  /** Completed checkpoints never discarded here (the one being restored). */
  readonly pinned?: readonly number[];
  /** Epoch ms at which follower pins' leases are judged (default: now). */
  readonly now?: number;
}

/** What a sweep removed. */
export interface SweepReport {
  /** Completed checkpoints dropped by retention. */
  readonly discarded: readonly number[];
  /** Failed or never-finished checkpoint folders removed. */
  readonly abandoned: readonly number[];
  /** Shared chunks no completed checkpoint referenced. */
  readonly orphans: readonly string[];
  readonly temporaries: number;
  /** COMPLETED checkpoints whose metadata is corrupt: while there are any, no chunk is removed. */
  readonly unreadable: readonly number[];
  /** Completed checkpoints retention would drop that a live follower pin holds (kept). */
  readonly held?: readonly number[];
  /** Follower pins whose lease had run out, removed. */
  readonly expiredPins?: readonly string[];
  /** Objects named like pins that are not pins (left alone: one may still be being written). */
  readonly invalidPins?: readonly string[];
  /** Handover reports removed: only the newest {@link HANDOVER_REPORTS_KEPT} stay. */
  readonly reports?: readonly string[];
}

/** Handover reports (`handover/report-chk-<n>.json`) a sweep keeps, newest first: one per handover would grow without end. */
export const HANDOVER_REPORTS_KEPT = 3;

/**
 * Whether a sweep with `scope` may delete `chunkId` once nothing references it. "Older" is decided
 * by the checkpoint id in the name, not by a modification time, so it is the same on a file
 * system and on S3 and immune to clock skew: a chunk named after a checkpoint below `activeFrom`
 * can only be referenced by a completed checkpoint (every chunk in a subtask's chain at a later
 * snapshot was in the chain the newest completed checkpoint recorded, or is newer than it).
 * Names baton does not write are never deleted.
 *
 * @example isSweepable('sum-0-127-3-base-0a1b2c3d', { retain: 2, activeFrom: 5, spillSegments: false }) // true
 */
export function isSweepable(chunkId: string, scope: Pick<SweepScope, 'activeFrom' | 'spillSegments'>): boolean {
  const id = chunkCheckpointId(chunkId);
  if (id !== undefined) return id < scope.activeFrom;
  return scope.spillSegments && isSpillSegmentId(chunkId);
}

/**
 * Applies retention to every completed checkpoint in the job directory (also those of earlier
 * runs: a run that restores from a directory takes over its retention), removes the folders of
 * failed or unfinished checkpoints older than the running job's, shared chunks that no completed
 * checkpoint references (see {@link isSweepable}) and stale temporary files. Completed
 * checkpoints a live follower pin names are held (a handover's B is reading them); pins whose
 * lease ran out are removed, and handover reports beyond the newest {@link HANDOVER_REPORTS_KEPT}.
 * Touches nothing else in `handover/` (the stop request), nor anything outside `chk-<n>/` and `shared/`.
 *
 * @example const report = await sweepJobDirectory(jobStorage, { retain: 3, activeFrom: Infinity, spillSegments: true, pinned: [17] });
 */
export async function sweepJobDirectory(storage: CheckpointStorage, scope: SweepScope): Promise<SweepReport> {
  // Pins first: what a follower pinned before this sweep started stays (see discardUnlessPinned).
  const pins = await readPins(storage, scope.now ?? Date.now());
  const followed = pinnedCheckpoints(pins);
  const checkpoints = await listCheckpoints(storage);
  const completed = checkpoints.filter((c) => c.status === 'COMPLETED').map((c) => c.id);
  const pinned = new Set(scope.pinned ?? []);
  const planned = planRetention(completed, scope.retain).filter((id) => !pinned.has(id));
  const held = planned.filter((id) => followed.has(id));
  const discard = planned.filter((id) => !followed.has(id));
  const { registry, skipped } = await rebuildRegistry(storage);
  const unreadable = skipped.filter((s) => s.error instanceof CorruptMetadataError).map((s) => s.id);
  const discarded: number[] = [];
  for (const id of discard) {
    // While some completed checkpoint's chunks are unknown, chunks stay (its folder may still go).
    if (unreadable.length > 0) await removeCheckpointFolder(storage, id);
    else await discardCheckpoint(storage, registry, id);
    discarded.push(id);
  }
  const abandoned: number[] = [];
  for (const entry of checkpoints) {
    if (entry.status === 'COMPLETED' || entry.id >= scope.activeFrom) continue;
    await removeCheckpointFolder(storage, entry.id);
    abandoned.push(entry.id);
  }
  let orphans: string[] = [];
  if (unreadable.length === 0) {
    const listed = (await storage.list(SHARED_DIR)).map(parseSharedChunkKey).filter((id): id is string => id !== undefined);
    orphans = await deleteUnreferenced(
      storage,
      registry,
      listed.filter((id) => isSweepable(id, scope)),
    );
  }
  const temporaries = scope.temporariesBefore === undefined ? 0 : ((await storage.removeTemporaries?.('', scope.temporariesBefore)) ?? 0);
  // A dead follower's pin holds nothing any more; a live one renews its own (a late renewal writes it again).
  if (pins.expired.length > 0) await storage.delete(pins.expired);
  const reports = handoverReportsBeyond(await storage.list(folderPrefix(HANDOVER_DIR)), HANDOVER_REPORTS_KEPT);
  if (reports.length > 0) await storage.delete(reports);
  return { discarded, abandoned, orphans, temporaries, unreadable, held, expiredPins: pins.expired, invalidPins: pins.invalid, reports };
}
