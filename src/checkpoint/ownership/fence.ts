// The ownership fence's evidence: which checkpoints another run committed, from what storage says.
import { metadataKey, parseCheckpointDir } from '../layout.ts';
import { type CheckpointEntry, listCheckpoints } from '../status/checkpoint-status.ts';
import type { CheckpointStorage } from '../storage/types.ts';

/**
 * After a run created checkpoint `own`'s `_metadata` (which continues the state of checkpoint
 * `after`), the completed checkpoints another run committed since: every COMPLETED id above
 * `after` except `own`. The run's own completed checkpoints are never above `after` (it is the
 * newest of them), so anything found was written by someone else, whatever gap a failed
 * checkpoint left in the id sequence. Empty means this run still owns the directory.
 *
 * @example committedByOthers([{ id: 4, status: 'COMPLETED' }, { id: 6, status: 'COMPLETED' }], 4, 6) // []
 * @example committedByOthers([{ id: 4, status: 'COMPLETED' }, { id: 5, status: 'COMPLETED' }, { id: 6, status: 'COMPLETED' }], 4, 6) // [5]
 */
export function committedByOthers(entries: readonly CheckpointEntry[], after: number, own: number): number[] {
  return entries.filter((e) => e.status === 'COMPLETED' && e.id > after && e.id !== own).map((e) => e.id);
}

/**
 * {@link committedByOthers} read from storage, cheaply: the job directory's folder names (one
 * request, however many chunks `shared/` holds), then a `_metadata` existence check of each
 * `chk-<n>` folder above `after` other than `own` (usually none). A storage without
 * `listFolders` is listed in full. Sound after a won create of `own`: a checkpoint another run
 * completed before this call began has its folder listed and its `_metadata` found.
 *
 * @example if ((await completedByOthers(jobDir, 4, 6)).length > 0) throw fenced;
 */
export async function completedByOthers(storage: CheckpointStorage, after: number, own: number): Promise<number[]> {
  if (!storage.listFolders) return committedByOthers(await listCheckpoints(storage), after, own);
  const candidates = (await storage.listFolders('')).map(parseCheckpointDir).filter((id): id is number => id !== undefined && id > after && id !== own);
  const found = await Promise.all(candidates.map(async (id) => ((await storage.exists(metadataKey(id))) ? id : undefined)));
  return found.filter((id): id is number => id !== undefined).sort((a, b) => a - b);
}
