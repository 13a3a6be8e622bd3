// Why a checkpoint is not in its job directory: deleted (the job went past it) or never written.
import type { CheckpointStorage } from '../storage/types.ts';
import { listCheckpoints } from './checkpoint-status.ts';

/** Why checkpoint n has no files in the job directory. */
export type AbsentCheckpoint =
  /**
   * Newer checkpoints exist: ids are handed out in order, so n was used and its files were deleted
   * since (retention keeps only the newest completed ones; failed and abandoned ones are swept).
   */
  | { readonly kind: 'deleted'; readonly oldest: number; readonly newest: number }
  /** No checkpoint at or after n: n was never written (yet). `newest`: the newest one there, if any. */
  | { readonly kind: 'never-existed'; readonly newest: number | undefined };

/**
 * Tells a checkpoint deleted by retention (or swept) from one that never existed, for a checkpoint
 * whose status is UNKNOWN, from one listing of the job directory.
 *
 * @example const why = await explainAbsentCheckpoint(storage, 2); // { kind: 'deleted', oldest: 5, newest: 7 }
 */
export async function explainAbsentCheckpoint(storage: CheckpointStorage, n: number): Promise<AbsentCheckpoint> {
  const ids = (await listCheckpoints(storage)).map((e) => e.id).filter((id) => id !== n);
  const newest = ids.at(-1);
  if (newest === undefined || newest < n) return { kind: 'never-existed', newest };
  return { kind: 'deleted', oldest: ids[0], newest };
}

/**
 * One line saying why checkpoint n is absent.
 *
 * @example describeAbsentCheckpoint(2, 'file:///d/orders', { kind: 'deleted', oldest: 5, newest: 7 })
 */
export function describeAbsentCheckpoint(n: number, jobDir: string, absent: AbsentCheckpoint): string {
  if (absent.kind === 'deleted') {
    const kept = absent.oldest === absent.newest ? `chk-${absent.newest}` : `chk-${absent.oldest}..chk-${absent.newest}`;
    const why = n < absent.oldest ? 'older than every checkpoint left, deleted by retention' : 'deleted by retention or swept after it failed';
    return `chk-${n} no longer exists in ${jobDir}: ${why} (left: ${kept})`;
  }
  return absent.newest === undefined ? `chk-${n} never existed: ${jobDir} holds no checkpoint` : `chk-${n} never existed: the newest checkpoint in ${jobDir} is chk-${absent.newest}`;
}
