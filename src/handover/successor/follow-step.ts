// Following: apply every checkpoint A completed since the last step, and spot the one B takes over from.
import type { CheckpointEntry } from '../../checkpoint/index.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { FollowResult } from '../../runtime/coordinator/start-sequence.ts';
import { applyFollowed, type FollowerDeps, type FollowOutcome, readPinned } from '../follow/index.ts';

/** What one following step did: the newest checkpoint applied, each one followed or skipped, and the takeover checkpoint if it came. */
export interface FollowStep {
  readonly applied: number | undefined;
  /** The metadata of the newest checkpoint this step followed (undefined: none). */
  readonly newest: CheckpointMetadata | undefined;
  readonly followed: ReadonlyArray<{ readonly id: number; readonly result: FollowResult }>;
  /** Checkpoints that vanished (A's retention discarded them) before or while B read them: skipped, not fatal. */
  readonly skipped: ReadonlyArray<Extract<FollowOutcome, { kind: 'vanished' }>>;
  /** A completed checkpoint the caller takes over from (stage 2 applies it; it is not followed). */
  readonly takeover: CheckpointMetadata | undefined;
}

/**
 * Walks the COMPLETED checkpoints of `listing` after `applied`, oldest first: `isTakeover` says
 * whether one is where B takes over (then the step ends there); any other is followed (its delta
 * applied). `below`: checkpoints at or above it are not followed (a fixed target's own delta is
 * stage 2's). `newestOnly`: only the newest of them is looked at (catching up: following it
 * applies every chunk of its chains B has not, so the ones before it need no step of their own).
 * Each is pinned before it is read (A's retention keeps it while B reads), a short `_metadata`
 * read is read again, and one that vanished anyway is skipped: B's state stays exact chain by
 * chain, and the next checkpoint continues it.
 */
export async function followStep(
  deps: FollowerDeps,
  listing: readonly CheckpointEntry[],
  applied: number | undefined,
  isTakeover: (metadata: CheckpointMetadata) => boolean,
  below = Number.POSITIVE_INFINITY,
  newestOnly = false,
): Promise<FollowStep> {
  const followed: Array<{ id: number; result: FollowResult }> = [];
  const skipped: Array<Extract<FollowOutcome, { kind: 'vanished' }>> = [];
  let newest = applied;
  let newestMetadata: CheckpointMetadata | undefined;
  const after = listing.filter((e) => e.status === 'COMPLETED' && e.id > (applied ?? 0) && e.id < below).sort((a, b) => a.id - b.id);
  const pending = newestOnly ? after.slice(-1) : after;
  for (const entry of pending) {
    const read = await readPinned(deps, entry.id);
    if ('kind' in read) {
      skipped.push(read);
      continue;
    }
    if (isTakeover(read.metadata)) return { applied: newest, newest: newestMetadata, followed, skipped, takeover: read.metadata };
    const outcome = await applyFollowed(deps, read.metadata);
    if (outcome.kind === 'vanished') {
      skipped.push(outcome);
      continue;
    }
    newest = entry.id;
    newestMetadata = outcome.metadata;
    followed.push({ id: entry.id, result: outcome.applied });
  }
  return { applied: newest, newest: newestMetadata, followed, skipped, takeover: undefined };
}
