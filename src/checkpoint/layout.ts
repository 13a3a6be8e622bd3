// Keys of a job directory's layout (chk-<n>/_metadata, chk-<n>/_FAILED, shared/<chunk>, handover/...), relative to the job dir,
// and the names of the files in them: the one place keys are built (test/storage-keys.test.ts checks that).
import { TEMP_MARKER } from './storage/storage-key.ts';

/** Directory holding the immutable keyed-state chunks shared by many checkpoints. */
export const SHARED_DIR = 'shared';
/** Written last and atomically: its existence means the checkpoint is COMPLETED. */
export const METADATA_FILE = '_metadata';
/** Written when a checkpoint is aborted; holds the reason as JSON. */
export const FAILED_FILE = '_FAILED';
/** Directory of the handover files: the stop request, follower pins, handover reports (never a `chk-<n>` folder). */
export const HANDOVER_DIR = 'handover';
/** Key of the stop request in a job directory (not a `chk-<n>` folder, so checkpoint listings ignore it). */
export const STOP_REQUEST_KEY = `${HANDOVER_DIR}/stop-request.json`;
/** Start of every follower pin's key (`handover/pin-<runId>.json`). */
export const PIN_PREFIX = `${HANDOVER_DIR}/pin-`;
const PIN_SUFFIX = '.json';
// A run id is a UUID; anything else in a pin's name is not one of baton's.
const PIN_RUN_ID = /^[A-Za-z0-9-]{1,64}$/;
const HANDOVER_REPORT = /^handover\/report-chk-(0|[1-9][0-9]{0,15})\.json$/;
// `<uid>-<start>-<end>-<checkpoint>-<base|delta>-<8 hex>`: see stateChunkId.
const STATE_CHUNK = /-(0|[1-9][0-9]*)-(?:base|delta)-[0-9a-f]{8}$/;
const SPILL_SEGMENT = /^spill-/;

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
  return `channel-${fileNamePart(uid)}-${subtaskIndex}`;
}

/**
 * An operator uid (or any name) as part of a file name: characters outside `[A-Za-z0-9_.-]` become `_`.
 *
 * @example fileNamePart('my op/1') // 'my_op_1'
 */
export function fileNamePart(name: string): string {
  return String(name).replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * Id of a keyed-state chunk (a file under `shared/`): operator, key-group range, the checkpoint it
 * was written for, kind and a random `nonce` (8 hex digits). Sweeps read the checkpoint id back
 * ({@link chunkCheckpointId}) to tell old chunks from ones the running job may still reference.
 *
 * @example stateChunkId('sum', 0, 127, 12, 'delta', '0a1b2c3d') // 'sum-0-127-12-delta-0a1b2c3d'
 */
export function stateChunkId(uid: string, start: number, end: number, checkpointId: number, kind: 'base' | 'delta', nonce: string): string {
  return `${fileNamePart(uid)}-${start}-${end}-${checkpointId}-${kind}-${nonce}`;
}

/**
 * The checkpoint a state chunk was written for, from its name ({@link stateChunkId}), or undefined for other names.
 *
 * @example chunkCheckpointId('sum-0-127-12-delta-0a1b2c3d') // 12
 */
export function chunkCheckpointId(chunkId: string): number | undefined {
  const match = STATE_CHUNK.exec(chunkId);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Start of the ids of one in-flight log's spilled segments (shared chunks `spill-<name>-<nonce>-<n>`).
 *
 * @example spillSegmentPrefix('sum-0', '0a0b0c0d') // 'spill-sum-0-0a0b0c0d'
 */
export function spillSegmentPrefix(name: string, nonce: string): string {
  return `spill-${name}-${nonce}`;
}

/** Whether a chunk id names a spilled in-flight segment. @example isSpillSegmentId('spill-sum-0-0a0b0c0d-3') // true */
export function isSpillSegmentId(chunkId: string): boolean {
  return SPILL_SEGMENT.test(chunkId);
}

/**
 * Key of the report a deployment that took over at checkpoint `id` writes (its metrics, downtime included).
 *
 * @example handoverReportKey(9) // 'handover/report-chk-9.json'
 */
export function handoverReportKey(id: number): string {
  return `${HANDOVER_DIR}/report-${checkpointDir(id)}.json`;
}

/** The checkpoint id of a handover report's key, or undefined for other keys. @example parseHandoverReportKey('handover/report-chk-9.json') // 9 */
export function parseHandoverReportKey(key: string): number | undefined {
  const match = HANDOVER_REPORT.exec(key);
  return match === null ? undefined : Number(match[1]);
}

/** Key of run `runId`'s pin; throws RangeError for a run id that is not `[A-Za-z0-9-]{1,64}`. @example pinKey('3f2a') // 'handover/pin-3f2a.json' */
export function pinKey(runId: string): string {
  if (!PIN_RUN_ID.test(runId)) throw new RangeError(`invalid run id ${JSON.stringify(runId)} for a pin: expected [A-Za-z0-9-]{1,64}`);
  return `${PIN_PREFIX}${runId}${PIN_SUFFIX}`;
}

/** The run id in a pin's key, or undefined for any other key. @example runIdOfPinKey('handover/pin-ab.json') // 'ab' */
export function runIdOfPinKey(key: string): string | undefined {
  if (!key.startsWith(PIN_PREFIX) || !key.endsWith(PIN_SUFFIX)) return undefined;
  const runId = key.slice(PIN_PREFIX.length, key.length - PIN_SUFFIX.length);
  return PIN_RUN_ID.test(runId) ? runId : undefined;
}

/** Prefix listing a folder's keys (`chk-7/`, `shared/`, `handover/`). @example folderPrefix(checkpointDir(7)) // 'chk-7/' */
export function folderPrefix(dir: string): string {
  return `${dir}/`;
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
