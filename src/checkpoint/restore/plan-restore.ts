// Restore planning: which chunks and states each subtask of the new job gets from a checkpoint.
import { BatonError, registerErrors } from '../../errors/index.ts';
import { keyGroupRangeFor } from '../../state/index.ts';
import type { KeyGroupRange } from '../../state/index.ts';
import type { CheckpointMetadata, KeyGroupChain } from '../types.ts';

/** What the restore planner needs to know about an operator of the job being started. */
export interface RestoreTarget {
  readonly uid: string;
  readonly parallelism: number;
  readonly keyed: boolean;
  /** Sources get the saved splits dealt out again instead of opaque states. */
  readonly isSource: boolean;
}

export interface SubtaskRestore {
  /** Chains of every old key-group range overlapping this subtask's range. */
  readonly chains: readonly KeyGroupChain[];
  readonly range?: KeyGroupRange;
  /** Every old subtask's operator state (the operator picks what is its own). */
  readonly states: readonly unknown[];
  /** Sources: the splits this subtask resumes. */
  readonly splits?: readonly unknown[];
}

export type RestorePlan = ReadonlyMap<string, readonly SubtaskRestore[]>;

export class RestorePlanError extends BatonError {
  static override readonly code: string = 'BATON_ERR_RESTORE_PLAN';
  override name = 'RestorePlanError';
  constructor(
    readonly checkpointId: number,
    readonly operatorUids: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

function overlaps(a: KeyGroupRange, b: KeyGroupRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/**
 * Plans a restore, possibly at another parallelism: keyed state follows key groups, source
 * splits are dealt round-robin, other state goes to every subtask. An operator saved in the
 * checkpoint but missing from the job is an error unless `allowNonRestoredState`.
 */
export function planRestore(
  metadata: CheckpointMetadata,
  targets: readonly RestoreTarget[],
  maxParallelism: number,
  allowNonRestoredState: boolean,
): RestorePlan {
  if (metadata.maxParallelism !== maxParallelism) {
    throw new RestorePlanError(
      metadata.checkpointId,
      [],
      `checkpoint ${metadata.checkpointId} was taken with maxParallelism ${metadata.maxParallelism}, the job has ${maxParallelism}: key groups cannot be remapped`,
    );
  }
  const byUid = new Map(targets.map((t) => [t.uid, t]));
  const missing = metadata.operators.filter((o) => !byUid.has(o.uid)).map((o) => o.uid);
  if (missing.length > 0 && !allowNonRestoredState) {
    throw new RestorePlanError(
      metadata.checkpointId,
      missing,
      `checkpoint ${metadata.checkpointId} has state for operator(s) ${missing.map((u) => `'${u}'`).join(', ')} that the job no longer has; set allowNonRestoredState to drop it`,
    );
  }
  const plan = new Map<string, SubtaskRestore[]>();
  for (const saved of metadata.operators) {
    const target = byUid.get(saved.uid);
    if (!target) continue;
    const states = [...saved.subtasks].sort((a, b) => a.subtaskIndex - b.subtaskIndex).map((s) => s.state);
    const splits = target.isSource ? states.flatMap((s) => ((s as { splits?: unknown[] } | undefined)?.splits ?? [])) : [];
    const subtasks: SubtaskRestore[] = [];
    for (let i = 0; i < target.parallelism; i++) {
      const range = target.keyed ? keyGroupRangeFor(i, target.parallelism, maxParallelism) : undefined;
      subtasks.push({
        range,
        chains: range ? saved.keyed.filter((c) => overlaps(c.range, range)) : [],
        states: target.isSource ? [] : states,
        splits: target.isSource ? splits.filter((_, j) => j % target.parallelism === i) : undefined,
      });
    }
    plan.set(saved.uid, subtasks);
  }
  return plan;
}

registerErrors(RestorePlanError);
