// The cut of a shadow promotion, pure: the running job's source positions in a checkpoint, and whether they are at or after the shadow's.
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { CutPositions, HeldPositions } from '../../runtime/index.ts';

/** A source's order of offsets (Source.compareOffsets), by source uid; undefined when the source has none. */
export type OffsetOrders = (sourceUid: string) => ((a: unknown, b: unknown) => number) | undefined;

/** Where the running job's sources stand in a checkpoint, or why they cannot be read as a cut. */
export type PositionsRead = { readonly positions: CutPositions } | { readonly problem: string };

/**
 * The source positions checkpoint `metadata` records for each of `sourceUids`: split id → offset
 * of every split not read to its end (a split the checkpoint does not list was finished by then).
 * Storage is hostile input: a source without state, or a split that is not `{ id: string, offset }`,
 * is a problem, not a position.
 *
 * @example checkpointPositions(meta, ['numbers']) // { positions: { numbers: { 'sequence-0-of-2': 1200, 'sequence-1-of-2': 3400 } } }
 */
export function checkpointPositions(metadata: CheckpointMetadata, sourceUids: readonly string[]): PositionsRead {
  const positions: Record<string, Record<string, unknown>> = {};
  for (const uid of sourceUids) {
    const op = metadata.operators.find((o) => o.uid === uid);
    if (!op) return { problem: `source '${uid}' has no state in chk-${metadata.checkpointId}: the running job does not read it, so there is no position to cut it at` };
    const splits: Record<string, unknown> = {};
    for (const { subtaskIndex, state } of op.subtasks) {
      const listed = (state as { splits?: unknown } | null | undefined)?.splits;
      if (listed === undefined) continue;
      if (!Array.isArray(listed)) return { problem: `chk-${metadata.checkpointId}: source '${uid}' subtask ${subtaskIndex}: splits is not an array` };
      for (const split of listed) {
        const id = (split as { id?: unknown } | null)?.id;
        if (typeof id !== 'string' || !Object.hasOwn(split as object, 'offset')) return { problem: `chk-${metadata.checkpointId}: source '${uid}' subtask ${subtaskIndex}: a split without an id and offset` };
        splits[id] = (split as { offset: unknown }).offset;
      }
    }
    positions[uid] = splits;
  }
  return { positions };
}

/** Whether the running job's positions are at or after the shadow's on every split. */
export type Coverage = { readonly covers: true } | { readonly covers: false; readonly behind: string } | { readonly problem: string };

/**
 * Whether `running` (the running job's positions in one of its checkpoints) is at or after `held`
 * (where the shadow's sources hold) on every split: only then can a stop checkpoint of the running
 * job, which comes after it, be the cut (the shadow reads on up to it; nothing it processed lies
 * after it). A split the running job finished covers anything; one the shadow finished is covered
 * only once the running job finished it too. Offsets that cannot be ordered are a problem.
 *
 * @example positionsCover({ numbers: { s: 120 } }, { numbers: [{ id: 's', offset: 100, finished: false }] }, () => (a, b) => Number(a) - Number(b)) // { covers: true }
 */
export function positionsCover(running: CutPositions, held: HeldPositions, orders: OffsetOrders): Coverage {
  for (const [uid, splits] of Object.entries(held)) {
    const limits = running[uid];
    if (limits === undefined) return { problem: `source '${uid}' has no position in the running job's checkpoint` };
    const compare = orders(uid);
    if (!compare) return { problem: `source '${uid}' cannot be cut at positions (its source has no compareOffsets)` };
    for (const split of splits) {
      // The running job read this split to its end: it is at or after anything the shadow read.
      if (!Object.hasOwn(limits, split.id)) continue;
      let order: number;
      try {
        order = compare(limits[split.id], split.offset);
      } catch (error) {
        return { problem: `source '${uid}', split '${split.id}': ${(error as Error).message}` };
      }
      if (Number.isNaN(order)) return { problem: `source '${uid}', split '${split.id}': positions ${JSON.stringify(limits[split.id])} and ${JSON.stringify(split.offset)} cannot be ordered` };
      if (order < 0) {
        return { covers: false, behind: `source '${uid}', split '${split.id}': the running job is at ${JSON.stringify(limits[split.id])}, the shadow at ${JSON.stringify(split.offset)}` };
      }
    }
  }
  return { covers: true };
}
