// Following one checkpoint of the running job, or skipping it when the job's retention discarded it meanwhile.
import { CheckpointNotFoundError, CorruptCheckpointError } from '../../checkpoint/index.ts';
import { metadataKey } from '../../checkpoint/index.ts';
import { listCheckpoints } from '../../checkpoint/index.ts';
import { readMetadataSettled, type SettleOptions } from '../../checkpoint/status/settled-metadata.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { AttemptRestoreControl, FollowResult } from '../../runtime/coordinator/start-sequence.ts';
import type { PinLease } from './pin-lease.ts';

/** What a follower needs: the job directory, the attempt's follow, and its pin (none: nothing is pinned). */
export interface FollowerDeps {
  readonly storage: CheckpointStorage;
  readonly control: Pick<AttemptRestoreControl, 'follow'>;
  readonly lease?: PinLease;
  readonly settle?: SettleOptions;
}

/** A checkpoint followed, or skipped because it vanished (`reason` says where). */
export type FollowOutcome =
  | { readonly kind: 'followed'; readonly metadata: CheckpointMetadata; readonly applied: FollowResult }
  | { readonly kind: 'vanished'; readonly id: number; readonly reason: string };

/**
 * Pins checkpoint `id`, reads its `_metadata` (a short read is read again) and brings B's keyed
 * state to it. A checkpoint that vanished is skipped, not fatal: its `_metadata` gone before the
 * read, or a chunk gone during the download while its `_metadata` is gone too (a discard deletes
 * `_metadata` first, then the chunks). A chunk gone while `_metadata` is still there is damage: a
 * CorruptCheckpointError. After a vanished follow, B's state is exact chain by chain (see
 * FollowResult.missing): the next checkpoint followed continues every chain from what it holds.
 *
 * @example const outcome = await followOrSkip({ storage, control, lease }, 41);
 */
export async function followOrSkip(deps: FollowerDeps, id: number): Promise<FollowOutcome> {
  const read = await readPinned(deps, id);
  return 'kind' in read ? read : applyFollowed(deps, read.metadata);
}

/**
 * The first half of {@link followOrSkip}: pins checkpoint `id` and reads its `_metadata` (a short
 * read is read again), or says it vanished. A caller that must look at the metadata before
 * applying it (is it the checkpoint B takes over from?) calls this, then {@link applyFollowed}.
 *
 * @example const read = await readPinned(deps, 41); if (!('kind' in read)) use(read.metadata);
 */
export async function readPinned(deps: FollowerDeps, id: number): Promise<{ readonly metadata: CheckpointMetadata } | Extract<FollowOutcome, { kind: 'vanished' }>> {
  // Pinned before the read: a discard that starts from now on keeps it.
  await deps.lease?.hold([id]);
  try {
    return { metadata: await readMetadataSettled(deps.storage, id, deps.settle) };
  } catch (error) {
    if (error instanceof CheckpointNotFoundError) return { kind: 'vanished', id, reason: `${metadataKey(id)} is gone` };
    throw error;
  }
}

/**
 * The second half of {@link followOrSkip}: brings B's keyed state to `metadata` (read with
 * {@link readPinned}); a chunk gone with its `_metadata` means the checkpoint vanished meanwhile.
 *
 * @example const outcome = await applyFollowed(deps, metadata);
 */
export async function applyFollowed(deps: FollowerDeps, metadata: CheckpointMetadata): Promise<FollowOutcome> {
  const id = metadata.checkpointId;
  const applied = await deps.control.follow(metadata);
  if (applied.missing === undefined) return { kind: 'followed', metadata, applied };
  if (await deps.storage.exists(metadataKey(id))) {
    throw new CorruptCheckpointError(applied.missing, 'missing', 'the checkpoint refers to it, but it does not exist', deps.storage.uri, { checkpointId: id });
  }
  return { kind: 'vanished', id, reason: `${applied.missing} is gone (checkpoint ${id} discarded while it was followed)` };
}

/**
 * Stage 1 of a handover: follows the newest completed checkpoint; when it vanished (the running
 * job completed a newer one and discarded it), lists again and follows the newer one. Resolves
 * with the outcome followed, undefined when the directory holds no completed checkpoint, and
 * reports each skipped one to `onSkipped`. Gives up (throws the last reason) after `maxSkips`
 * vanished in a row, which means the follower cannot keep up with the job at all.
 *
 * @example const first = await followNewest({ storage, control, lease }, (s) => console.warn(s.reason));
 */
export async function followNewest(
  deps: FollowerDeps,
  onSkipped: (skipped: Extract<FollowOutcome, { kind: 'vanished' }>) => void = () => undefined,
  maxSkips = 50,
): Promise<Extract<FollowOutcome, { kind: 'followed' }> | undefined> {
  for (let skips = 0; ; skips++) {
    const newest = (await listCheckpoints(deps.storage)).filter((c) => c.status === 'COMPLETED').at(-1);
    if (newest === undefined) return undefined;
    const outcome = await followOrSkip(deps, newest.id);
    if (outcome.kind === 'followed') return outcome;
    onSkipped(outcome);
    if (skips + 1 >= maxSkips) throw new CheckpointNotFoundError(deps.storage.uri, newest.id, undefined, { cause: new Error(`${maxSkips} checkpoints in a row vanished while followed: ${outcome.reason}`) });
  }
}
