// Which checkpoint a run restores: `restoreFrom` resolved against the job's directory from storage alone.
import { NoCheckpointToRestoreError } from '../../checkpoint/index.ts';
import { jobDirectoryShape } from '../../checkpoint/status/job-directory.ts';
import { parseCheckpointDir } from '../../checkpoint/index.ts';
import { findLatestRestorable, listCheckpoints, readMetadata, type SkippedCheckpoint } from '../../checkpoint/index.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import { JobConfigError } from '../errors.ts';
import { restoreFromProblem } from './run-options.ts';

/** What `restoreFrom` accepts: the newest checkpoint (three ways), a number, or a `.../chk-<n>` path. */
export type RestoreFrom = 'latest' | 'latest-valid' | 'latest-or-empty' | number | string;

/** What a restore resolved to: the checkpoint, and newer ones passed over (`'latest-valid'` only). */
export interface ResolvedRestore {
  /** Undefined: nothing to restore and an empty start was allowed (`'latest-or-empty'`). */
  readonly metadata: CheckpointMetadata | undefined;
  readonly skipped: readonly SkippedCheckpoint[];
  /** The newest COMPLETED checkpoint the search saw (a skipped one, or the one restored). */
  readonly newestCompleted: number | undefined;
}

/** Whether `restoreFrom` names "the newest checkpoint" (resolved again if a newer one completes meanwhile). */
export function isLatest(restoreFrom: RestoreFrom): restoreFrom is 'latest' | 'latest-valid' | 'latest-or-empty' {
  return restoreFrom === 'latest' || restoreFrom === 'latest-valid' || restoreFrom === 'latest-or-empty';
}

/**
 * Resolves `restoreFrom` against the job's directory: 'latest', 'latest-valid', 'latest-or-empty',
 * a number, or a `.../chk-<n>` path. `check` validates a decoded checkpoint against the job (names
 * and paths its sinks and sources would use) and throws a CorruptCheckpointError. No checkpoint
 * for 'latest' or 'latest-valid' throws NoCheckpointToRestoreError naming the directory searched;
 * only `allowEmpty` (default: `'latest-or-empty'`) resolves to an empty start.
 *
 * @example const { metadata } = await resolveRestore(jobStorage, 'latest-or-empty'); // undefined: start empty
 */
export async function resolveRestore(
  storage: CheckpointStorage,
  restoreFrom: RestoreFrom,
  check: (metadata: CheckpointMetadata) => void = () => {},
  allowEmpty: boolean = restoreFrom === 'latest-or-empty',
): Promise<ResolvedRestore> {
  if (isLatest(restoreFrom)) {
    const { latest, skipped } = await findLatestRestorable(storage, { fallback: restoreFrom === 'latest-valid', check });
    const newestCompleted = skipped[0]?.id ?? latest?.id;
    if (latest === undefined && !allowEmpty) {
      throw new NoCheckpointToRestoreError(storage.uri, restoreFrom, await describeContents(storage, skipped), skipped.map((s) => s.id));
    }
    return { metadata: latest?.metadata, skipped, newestCompleted };
  }
  const metadata = await resolveNamed(storage, restoreFrom);
  check(metadata);
  return { metadata, skipped: [], newestCompleted: metadata.checkpointId };
}

/**
 * Rethrows a NoCheckpointToRestoreError with where checkpoints are instead: the storage root given
 * is itself a job directory (checkpointStorage names the job, not the root), or the other job
 * directories under it (the job id defaulted to another name). Other errors pass through.
 *
 * @example await resolveRestore(jobStorage, 'latest').catch((e) => withWhereElse(e, rootStorage, jobStorage.uri));
 */
export async function withWhereElse(error: unknown, root: CheckpointStorage, jobDir: string): Promise<never> {
  if (!(error instanceof NoCheckpointToRestoreError) || error.skipped.length > 0) throw error;
  const shape = await jobDirectoryShape(root).catch(() => undefined);
  let where: string | undefined;
  if (shape?.kind === 'job') where = `${root.uri} itself holds a job's checkpoints: checkpointStorage is the root above the job directories, not a job directory`;
  const others = shape?.kind === 'root' ? shape.jobDirs.filter((d) => d !== jobDir) : [];
  if (others.length > 0) where = `job directories under ${root.uri}: ${others.slice(0, 20).join(', ')}${others.length > 20 ? ', ...' : ''}`;
  if (where === undefined) throw error;
  throw new NoCheckpointToRestoreError(error.jobDir, error.restoreFrom, `${error.found}; ${where}`, error.skipped);
}

/** What the directory holds instead of a restorable checkpoint, for the error. */
async function describeContents(storage: CheckpointStorage, skipped: readonly SkippedCheckpoint[]): Promise<string> {
  if (skipped.length > 0) return `every completed checkpoint is unusable: ${skipped.map((s) => `chk-${s.id}: ${s.error.message}`).join('; ')}`;
  const entries = await listCheckpoints(storage);
  if (entries.length === 0) return 'it holds no checkpoint';
  return `it holds no completed checkpoint, only ${entries.map((e) => `chk-${e.id} ${e.status}`).join(', ')}`;
}

async function resolveNamed(storage: CheckpointStorage, restoreFrom: number | string): Promise<CheckpointMetadata> {
  if (typeof restoreFrom === 'number') return readMetadata(storage, restoreFrom);
  if (/^\d+$/.test(restoreFrom)) return readMetadata(storage, Number(restoreFrom));
  const problem = restoreFromProblem(restoreFrom);
  if (problem !== undefined) throw new JobConfigError('restoreFrom', problem);
  const trimmed = restoreFrom.replace(/\/+$/, '').replace(/\/_metadata$/, '');
  const slash = trimmed.lastIndexOf('/');
  const id = parseCheckpointDir(trimmed.slice(slash + 1));
  const parent = trimmed.slice(0, slash);
  if (id === undefined) throw new JobConfigError('restoreFrom', `'${restoreFrom}' is not 'latest', 'latest-valid', 'latest-or-empty', a checkpoint number or a path ending in chk-<n>`);
  const own = storage.uri.replace(/\/+$/, '');
  const sameDir = parent === own || `file://${parent}` === own || parent === own.replace(/^file:\/\//, '');
  if (!sameDir) {
    throw new JobConfigError('restoreFrom', `'${restoreFrom}' is outside this job's checkpoint directory ${own}; set checkpointStorage and jobId to match it`);
  }
  return readMetadata(storage, id);
}
