// Keys of a job directory's layout (chk-<n>/_metadata, chk-<n>/_FAILED, shared/<chunk>), relative to the job dir.
import { TEMP_MARKER } from './storage/storage-key.ts';

/** Directory holding the immutable keyed-state chunks shared by many checkpoints. */
export const SHARED_DIR = 'shared';
/** Written last and atomically: its existence means the checkpoint is COMPLETED. */
export const METADATA_FILE = '_metadata';
/** Written when a checkpoint is aborted; holds the reason as JSON. */
export const FAILED_FILE = '_FAILED';

const CHECKPOINT_DIR = /^chk-(0|[1-9][0-9]*)$/;
// Names come from metadata that anyone can write, so the allowed alphabet is what keeps a
// path built from them inside the job dir: no `/`, `\`, `..`, no absolute or empty names.
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
// A common file-system limit on one path segment.
const MAX_NAME_LENGTH = 255;

/**
 * Whether `name` may be used as a chunk id or exclusive file name: only `[A-Za-z0-9._-]`,
 * no `..`, not starting with `.` and without `.tmp-` (both left to temporary files of writes), not
 * starting with `_` (left to the `_metadata` and `_FAILED` markers), at most 255 characters.
 *
 * @example isSafeName('op-count.kg-0-63.base-7') // true; isSafeName('../etc') // false
 */
export function isSafeName(name: string): boolean {
  return (
    name.length <= MAX_NAME_LENGTH &&
    SAFE_NAME.test(name) &&
    !name.includes('..') &&
    !name.startsWith('.') &&
    // `_metadata` and `_FAILED` decide a checkpoint's status: no data file may take their names.
    !name.startsWith('_') &&
    // Storage reserves this for the temporary files of atomic writes and refuses such keys.
    !name.includes(TEMP_MARKER)
  );
}

/** Whether `id` is a valid chunk id (see {@link isSafeName}). @example isValidChunkId('a-1') // true */
export const isValidChunkId: (id: string) => boolean = isSafeName;
/** Whether `name` is a valid exclusive file name (see {@link isSafeName}). @example isValidExclusiveName('ch-0') // true */
export const isValidExclusiveName: (name: string) => boolean = isSafeName;

function assertCheckpointId(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`checkpoint id must be a non-negative integer, got ${String(n)}`);
}

function assertSafeName(what: string, name: string): void {
  if (!isSafeName(name)) {
    throw new RangeError(`invalid ${what} ${JSON.stringify(name)}: only [A-Za-z0-9._-], no '..', no leading '.' or '_', no '${TEMP_MARKER}', at most ${MAX_NAME_LENGTH} characters`);
  }
}

/**
 * Name of the channel-state file (in `chk-<n>/`) of the subtask whose first operator is `uid`.
 *
 * @example channelStateFileName('count', 1) // 'channel-count-1'
 */
export function channelStateFileName(uid: string, subtaskIndex: number): string {
  return `channel-${String(uid).replace(/[^A-Za-z0-9_.-]/g, '_')}-${subtaskIndex}`;
}

/** Directory of checkpoint n. @example checkpointDir(7) // 'chk-7' */
export function checkpointDir(n: number): string {
  assertCheckpointId(n);
  return `chk-${n}`;
}

/** Metadata key of checkpoint n. @example metadataKey(7) // 'chk-7/_metadata' */
export function metadataKey(n: number): string {
  return `${checkpointDir(n)}/${METADATA_FILE}`;
}

/** Failure marker key of checkpoint n. @example failedKey(7) // 'chk-7/_FAILED' */
export function failedKey(n: number): string {
  return `${checkpointDir(n)}/${FAILED_FILE}`;
}

/** Key of a shared chunk; throws RangeError for an unsafe id. @example sharedChunkKey('c-1') // 'shared/c-1' */
export function sharedChunkKey(id: string): string {
  assertSafeName('chunk id', id);
  return `${SHARED_DIR}/${id}`;
}

/** Key of an exclusive file of checkpoint n; throws RangeError for an unsafe name. @example exclusiveKey(7, 'ch-0') // 'chk-7/ch-0' */
export function exclusiveKey(n: number, name: string): string {
  assertSafeName('exclusive file name', name);
  return `${checkpointDir(n)}/${name}`;
}

/**
 * The checkpoint number of a directory name, or undefined. Strict so that `chk-07` or `chk-7x`
 * (not written by baton) are never mistaken for checkpoint 7.
 *
 * @example parseCheckpointDir('chk-12') // 12; parseCheckpointDir('chk-012') // undefined
 */
export function parseCheckpointDir(name: string): number | undefined {
  const match = CHECKPOINT_DIR.exec(name);
  if (!match) return undefined;
  const n = Number(match[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Splits a key under a checkpoint dir into its number and the rest, or undefined for other keys.
 *
 * @example parseCheckpointKey('chk-3/_metadata') // { checkpointId: 3, file: '_metadata' }
 */
export function parseCheckpointKey(key: string): { checkpointId: number; file: string } | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) return undefined;
  const checkpointId = parseCheckpointDir(key.slice(0, slash));
  return checkpointId === undefined ? undefined : { checkpointId, file: key.slice(slash + 1) };
}

/**
 * The chunk id of a key directly under `shared/`, or undefined (nested or unsafe names are not chunks).
 *
 * @example parseSharedChunkKey('shared/c-1') // 'c-1'
 */
export function parseSharedChunkKey(key: string): string | undefined {
  const prefix = `${SHARED_DIR}/`;
  if (!key.startsWith(prefix)) return undefined;
  const id = key.slice(prefix.length);
  return isSafeName(id) ? id : undefined;
}

/** `<uri>/<key>` for messages, so an error names the file at fault. @example describeKey('file:///d/', 'chk-1/_metadata') */
export function describeKey(jobDir: string, key: string): string {
  return `${jobDir.replace(/\/+$/, '')}/${key}`;
}
