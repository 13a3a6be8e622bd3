// What a directory given as a job directory holds: a job's files, job directories (a storage root), or nothing.
import { NotAJobDirectoryError } from '../errors.ts';
import { parseCheckpointDir, SHARED_DIR } from '../layout.ts';
import type { CheckpointStorage } from '../storage/types.ts';

/** What a directory holds, seen from its top-level folders. */
export type JobDirectoryShape =
  /** A job's files: `chk-<n>/`, `shared/` or `handover/`. */
  | { readonly kind: 'job' }
  /** No job's files, but folders that are job directories (URIs): the storage root. */
  | { readonly kind: 'root'; readonly jobDirs: readonly string[] }
  /** Missing, empty, or holding nothing baton writes. */
  | { readonly kind: 'none' };

/** Top-level folders of a job directory: a directory holding one of them is (or was) a job's. */
function isJobFolder(name: string): boolean {
  return parseCheckpointDir(name) !== undefined || name === SHARED_DIR || name === 'handover';
}

async function foldersOf(storage: CheckpointStorage, prefix: string): Promise<string[]> {
  if (storage.listFolders) return storage.listFolders(prefix);
  const base = prefix === '' ? '' : `${prefix}/`;
  const names = new Set<string>();
  for (const key of await storage.list(prefix)) {
    const rest = key.slice(base.length);
    const slash = rest.indexOf('/');
    if (slash > 0) names.add(rest.slice(0, slash));
  }
  return [...names].sort();
}

/**
 * Whether `storage` is a job directory, a storage root (and which job directories it holds), or
 * neither. Reads folder names only (one listing, plus one per folder of a root); creates nothing.
 *
 * @example const shape = await jobDirectoryShape(openStorage('file:///data/checkpoints')); // { kind: 'root', jobDirs: [...] }
 */
export async function jobDirectoryShape(storage: CheckpointStorage): Promise<JobDirectoryShape> {
  const folders = await foldersOf(storage, '');
  if (folders.some(isJobFolder)) return { kind: 'job' };
  const root = storage.uri.replace(/\/+$/, '');
  const jobDirs: string[] = [];
  for (const folder of folders) if ((await foldersOf(storage, folder)).some(isJobFolder)) jobDirs.push(`${root}/${folder}`);
  return jobDirs.length > 0 ? { kind: 'root', jobDirs } : { kind: 'none' };
}

/**
 * Throws NotAJobDirectoryError unless `storage` holds a job's files: for a storage root, the error
 * names the job directories inside it. For commands that act on one job (`stop-after`,
 * `checkpoints list`), so a wrong path is refused instead of answered as an empty job.
 *
 * @example await requireJobDirectory(storage); // then write the stop request
 */
export async function requireJobDirectory(storage: CheckpointStorage): Promise<void> {
  const shape = await jobDirectoryShape(storage);
  if (shape.kind === 'job') return;
  if (shape.kind === 'root') {
    throw new NotAJobDirectoryError(storage.uri, shape.jobDirs, `it is a checkpoint storage root holding the job directories ${shape.jobDirs.join(', ')}: give one of them`);
  }
  throw new NotAJobDirectoryError(
    storage.uri,
    [],
    "it holds no job's files (no chk-<n>, shared/ or handover/): it does not exist, is empty, or its job has not written a checkpoint yet; a job directory is <checkpoint storage>/<jobId>",
  );
}
