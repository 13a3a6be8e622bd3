// Reads checkpoint status and metadata from storage alone, so any process (CLI, another deployment) can.
import { CheckpointNotFoundError, CorruptCheckpointError, CorruptMetadataError } from '../errors.ts';
import { FAILED_FILE, METADATA_FILE, checkpointDir, failedKey, folderPrefix, metadataKey, parseCheckpointKey } from '../layout.ts';
import { decodeMetadata } from '../metadata/metadata-codec.ts';
import type { CheckpointStorage } from '../storage/types.ts';
import type { CheckpointMetadata, CheckpointStatus } from '../types.ts';

/** One checkpoint found in a job directory. */
export interface CheckpointEntry {
  readonly id: number;
  readonly status: CheckpointStatus;
}

/** A COMPLETED checkpoint that could not be used, and why. */
export interface SkippedCheckpoint {
  readonly id: number;
  readonly error: CorruptCheckpointError | CheckpointNotFoundError;
}

/** How {@link findLatestRestorable} treats a newest checkpoint that cannot be used. */
export interface LatestSearchOptions {
  /**
   * Pass over (and report) newer checkpoints that are corrupt; default true. With false, a corrupt
   * newest COMPLETED checkpoint is thrown: its output may already be committed, so restoring an
   * older one would repeat it (`restoreFrom: 'latest'` does this; `'latest-valid'` falls back).
   */
  readonly fallback?: boolean;
  /** Further checks of a decoded checkpoint (e.g. against the job's sinks and sources); throws a CorruptCheckpointError. */
  readonly check?: (metadata: CheckpointMetadata) => void;
}

/** Result of {@link findLatestRestorable}: the newest usable checkpoint, if any, and the newer ones passed over. */
export interface RestorableSearch {
  readonly latest: { readonly id: number; readonly metadata: CheckpointMetadata } | undefined;
  /** Newest first. */
  readonly skipped: readonly SkippedCheckpoint[];
}

/** Contents of `chk-<n>/_FAILED`. */
export interface FailedMarker {
  readonly checkpointId: number;
  readonly reason: string;
}

/** Status from the set of files in a checkpoint dir; `_metadata` wins, as its existence means COMPLETED. */
function statusOf(files: ReadonlySet<string>): Exclude<CheckpointStatus, 'CORRUPT'> {
  if (files.has(METADATA_FILE)) return 'COMPLETED';
  if (files.has(FAILED_FILE)) return 'FAILED';
  return files.size > 0 ? 'IN_PROGRESS' : 'UNKNOWN';
}

/** Options of {@link checkpointStatus} and {@link listCheckpoints}. */
export interface StatusOptions {
  /**
   * Read and check every `_metadata` (magic, version, checksum, body; read twice before it is
   * condemned): one that fails is CORRUPT instead of COMPLETED. Default false (existence only).
   */
  readonly verify?: boolean;
}

/** COMPLETED, or CORRUPT when the metadata of checkpoint n fails its checks (read again once first). */
async function verifiedStatus(storage: CheckpointStorage, n: number): Promise<'COMPLETED' | 'CORRUPT' | undefined> {
  try {
    await readMetadata(storage, n);
    return 'COMPLETED';
  } catch (error) {
    if (error instanceof CorruptCheckpointError) return 'CORRUPT';
    if (error instanceof CheckpointNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Status of checkpoint n: COMPLETED if `_metadata` exists (decoded only with `verify`: then a bad
 * one is CORRUPT), FAILED if `_FAILED` exists, IN_PROGRESS if its directory holds anything else,
 * else UNKNOWN.
 *
 * @example if ((await checkpointStatus(storage, 117)) === 'COMPLETED') startHandover();
 */
export async function checkpointStatus(storage: CheckpointStorage, n: number, options: StatusOptions = {}): Promise<CheckpointStatus> {
  if (await storage.exists(metadataKey(n))) {
    if (!options.verify) return 'COMPLETED';
    const verified = await verifiedStatus(storage, n);
    if (verified !== undefined) return verified;
  }
  if (await storage.exists(failedKey(n))) return 'FAILED';
  const files = new Set<string>();
  for (const key of await storage.list(folderPrefix(checkpointDir(n)))) {
    const parsed = parseCheckpointKey(key);
    if (parsed?.checkpointId === n) files.add(parsed.file);
  }
  // The listing decides again: the checkpoint may have completed or failed since the checks above.
  return statusOf(files);
}

/**
 * Every checkpoint of the job directory with its status, oldest first, from one listing.
 * Keys that are not `chk-<n>/...` (e.g. `shared/`, `chk-07/`) are ignored. With `verify`, each
 * COMPLETED checkpoint's metadata is read and checked: one that fails is CORRUPT.
 *
 * @example const all = await listCheckpoints(storage); // [{ id: 1, status: 'COMPLETED' }, ...]
 */
export async function listCheckpoints(storage: CheckpointStorage, options: StatusOptions = {}): Promise<CheckpointEntry[]> {
  const entries = await listUnverified(storage);
  if (!options.verify) return entries;
  return Promise.all(
    entries.map(async (e) => (e.status === 'COMPLETED' ? { id: e.id, status: (await verifiedStatus(storage, e.id)) ?? (await checkpointStatus(storage, e.id)) } : e)),
  );
}

async function listUnverified(storage: CheckpointStorage): Promise<CheckpointEntry[]> {
  const files = new Map<number, Set<string>>();
  for (const key of await storage.list('')) {
    const parsed = parseCheckpointKey(key);
    if (parsed === undefined) continue;
    const set = files.get(parsed.checkpointId);
    if (set === undefined) files.set(parsed.checkpointId, new Set([parsed.file]));
    else set.add(parsed.file);
  }
  return [...files.entries()].map(([id, set]) => ({ id, status: statusOf(set) })).sort((a, b) => a.id - b.id);
}

/** Number of the newest COMPLETED checkpoint, or undefined. @example const n = await latestCompleted(storage); */
export async function latestCompleted(storage: CheckpointStorage): Promise<number | undefined> {
  const completed = (await listCheckpoints(storage)).filter((c) => c.status === 'COMPLETED');
  return completed.at(-1)?.id;
}

/**
 * Reads and decodes the metadata of checkpoint n. Throws CheckpointNotFoundError when there is
 * no `_metadata`, CorruptMetadataError when it fails a check or names another checkpoint.
 *
 * @example const meta = await readMetadata(storage, 7);
 */
export async function readMetadata(storage: CheckpointStorage, n: number): Promise<CheckpointMetadata> {
  const key = metadataKey(n);
  let bytes: Uint8Array;
  try {
    bytes = await storage.get(key);
  } catch (error) {
    // Tell "absent" from a storage failure without depending on the storage's error classes.
    if (await storage.exists(key).catch(() => true)) throw error;
    throw new CheckpointNotFoundError(storage.uri, n, await checkpointStatus(storage, n).catch(() => undefined), { cause: error });
  }
  let meta: CheckpointMetadata;
  try {
    meta = decodeMetadata(bytes, key, storage.uri);
  } catch (error) {
    // `_metadata` is written atomically, so a crash cannot tear it; but some stores (s3rver) serve
    // an object still being written short. Only what stays bad on a second read is damage.
    if (!(error instanceof CorruptCheckpointError)) throw error;
    meta = decodeMetadata(await storage.get(key), key, storage.uri);
  }
  // A directory copied or renamed by hand must not restore as a different checkpoint.
  if (meta.checkpointId !== n) throw new CorruptMetadataError(key, 'body', `checkpointId is ${meta.checkpointId}, expected ${n}`, storage.uri);
  return meta;
}

/**
 * The newest COMPLETED checkpoint whose metadata decodes (and passes `check`). With `fallback`
 * (the default) newer ones that are corrupt are passed over and reported in `skipped`; without,
 * a corrupt newest one is thrown. A checkpoint whose `_metadata` vanished after the listing (it
 * was marked FAILED) is always passed over and reported. Storage failures are thrown, never taken
 * for corruption.
 *
 * @example const { latest, skipped } = await findLatestRestorable(storage, { fallback: false });
 */
export async function findLatestRestorable(storage: CheckpointStorage, options: LatestSearchOptions = {}): Promise<RestorableSearch> {
  const fallback = options.fallback ?? true;
  const completed = (await listCheckpoints(storage)).filter((c) => c.status === 'COMPLETED').reverse();
  const skipped: SkippedCheckpoint[] = [];
  for (const { id } of completed) {
    try {
      const metadata = await readMetadata(storage, id);
      options.check?.(metadata);
      return { latest: { id, metadata }, skipped };
    } catch (error) {
      if (error instanceof CorruptCheckpointError && !fallback) throw error;
      if (!(error instanceof CorruptCheckpointError || error instanceof CheckpointNotFoundError)) throw error;
      skipped.push({ id, error });
    }
  }
  return { latest: undefined, skipped };
}

/**
 * Marks checkpoint n as FAILED with `reason` (UTF-8 JSON `{ checkpointId, reason }`). Any
 * `_metadata` is deleted first: a PUT whose reply was lost may have landed, and storage must not
 * call COMPLETED a checkpoint the job has given up on.
 *
 * @example await writeFailedMarker(storage, 8, 'declined by 0/1: timeout');
 */
export async function writeFailedMarker(storage: CheckpointStorage, n: number, reason: string): Promise<void> {
  await storage.delete([metadataKey(n)]);
  const marker: FailedMarker = { checkpointId: n, reason };
  await storage.put(failedKey(n), new TextEncoder().encode(JSON.stringify(marker)));
}

/**
 * The reason in `chk-<n>/_FAILED`, or undefined if there is no marker. An unreadable marker
 * yields its raw text, as it is only shown to people.
 *
 * @example console.log(await readFailedReason(storage, 8));
 */
export async function readFailedReason(storage: CheckpointStorage, n: number): Promise<string | undefined> {
  const key = failedKey(n);
  if (!(await storage.exists(key))) return undefined;
  const text = new TextDecoder().decode(await storage.get(key));
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'reason' in parsed && typeof parsed.reason === 'string') return parsed.reason;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text;
}
