// The ownership fence's evidence, as pure functions over what storage says.
import type { CheckpointEntry } from '../status/checkpoint-status.ts';

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
