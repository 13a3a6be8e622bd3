// Following: apply every checkpoint A completed since the last step, and spot the one B takes over from.
import type { CheckpointEntry } from '../../checkpoint/status/checkpoint-status.ts';
import { readMetadata } from '../../checkpoint/status/checkpoint-status.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/types.ts';
import type { AttemptRestoreControl, FollowResult } from '../../runtime/coordinator/start-sequence.ts';

/** What one following step did: the newest checkpoint applied, each one followed, and the takeover checkpoint if it came. */
export interface FollowStep {
  readonly applied: number | undefined;
  /** The metadata of the newest checkpoint this step followed (undefined: none). */
  readonly newest: CheckpointMetadata | undefined;
  readonly followed: ReadonlyArray<{ readonly id: number; readonly result: FollowResult }>;
  /** A completed checkpoint the caller takes over from (stage 2 applies it; it is not followed). */
  readonly takeover: CheckpointMetadata | undefined;
}

/**
 * Walks the COMPLETED checkpoints of `listing` after `applied`, oldest first: `isTakeover` says
 * whether one is where B takes over (then the step ends there); any other is followed (its delta
 * applied). `below`: checkpoints at or above it are not followed (a fixed target's own delta is
 * stage 2's). Kept apart from the shell so a following that survives retention and slow stores
 * (vanished checkpoints skipped, short reads retried) replaces just this step.
 */
export async function followStep(
  storage: CheckpointStorage,
  control: Pick<AttemptRestoreControl, 'follow'>,
  listing: readonly CheckpointEntry[],
  applied: number | undefined,
  isTakeover: (metadata: CheckpointMetadata) => boolean,
  below = Number.POSITIVE_INFINITY,
): Promise<FollowStep> {
  const followed: Array<{ id: number; result: FollowResult }> = [];
  let newest = applied;
  let newestMetadata: CheckpointMetadata | undefined;
  const pending = listing.filter((e) => e.status === 'COMPLETED' && e.id > (applied ?? 0) && e.id < below).sort((a, b) => a.id - b.id);
  for (const entry of pending) {
    const metadata = await readMetadata(storage, entry.id);
    if (isTakeover(metadata)) return { applied: newest, newest: newestMetadata, followed, takeover: metadata };
    const result = await control.follow(metadata);
    newest = entry.id;
    newestMetadata = metadata;
    followed.push({ id: entry.id, result });
  }
  return { applied: newest, newest: newestMetadata, followed, takeover: undefined };
}
