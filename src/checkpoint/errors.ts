// Typed errors of reading and restoring checkpoints: each names the checkpoint, file or operator at fault.
import { BatonError, registerErrors } from '../errors/index.ts';
import { describeKey, parseCheckpointKey } from './layout.ts';
import type { CheckpointStatus } from './types.ts';

/** A checkpoint that was asked for has no `_metadata` (it is missing, failed or still in progress). */
export class CheckpointNotFoundError extends BatonError {
  static override readonly code: string = 'BATON_ERR_CHECKPOINT_NOT_FOUND';
  override name = 'CheckpointNotFoundError';
  /** URI of the job directory that was searched. */
  readonly jobDir: string;
  readonly checkpointId: number;
  /** What storage says about the checkpoint instead, when it was looked up. */
  readonly status: CheckpointStatus | undefined;
  constructor(jobDir: string, checkpointId: number, status?: CheckpointStatus, options?: { cause?: unknown }) {
    const found = status === undefined || status === 'UNKNOWN' ? 'it does not exist' : `its status is ${status}`;
    super(`checkpoint ${checkpointId} not found in ${jobDir}: no chk-${checkpointId}/_metadata (${found})`, options);
    this.jobDir = jobDir;
    this.checkpointId = checkpointId;
    this.status = status;
  }
}

/**
 * `restoreFrom: 'latest'` (or `'latest-valid'`) found no completed checkpoint to restore in the job
 * directory: a wrong `checkpointStorage`, or a `jobId` that defaulted to another file name. The
 * job does not start empty unless asked to (`restoreFrom: 'latest-or-empty'`). `code` is stable.
 *
 * @example
 * ```ts
 * try { await (await runJob(url, { restoreFrom: 'latest' })).done; }
 * catch (e) { if (e instanceof NoCheckpointToRestoreError) console.error(`nothing in ${e.jobDir}`); }
 * ```
 */
export class NoCheckpointToRestoreError extends BatonError {
  static override readonly code: string = 'BATON_ERR_NO_CHECKPOINT';
  override name = 'NoCheckpointToRestoreError';
  /** URI of the job directory that was searched. */
  readonly jobDir: string;
  /** The `restoreFrom` value asked for. */
  readonly restoreFrom: string;
  /** Completed checkpoints that were passed over as unusable (`'latest-valid'`), newest first. */
  readonly skipped: readonly number[];
  /** What the directory holds instead, and where else checkpoints are (e.g. other job directories under the root). */
  readonly found: string;
  constructor(jobDir: string, restoreFrom: string, found: string, skipped: readonly number[] = []) {
    super(
      `restoreFrom '${restoreFrom}': no checkpoint to restore in ${jobDir} (${found}). Check checkpointStorage and jobId (the job id defaults to the job module's file name); ` +
        "to start empty when there is none, use restoreFrom 'latest-or-empty' (CLI: --restore-from latest-or-empty)",
    );
    this.jobDir = jobDir;
    this.restoreFrom = restoreFrom;
    this.skipped = skipped;
    this.found = found;
  }
}

/**
 * A command was given a directory that holds no job's checkpoints: it does not exist, it is empty,
 * or it is the storage root (then `jobDirs` names the job directories inside). `code` is stable.
 *
 * @example if (e instanceof NotAJobDirectoryError) console.error(`try one of ${e.jobDirs.join(', ')}`);
 */
export class NotAJobDirectoryError extends BatonError {
  static override readonly code: string = 'BATON_ERR_NOT_A_JOB_DIR';
  override name = 'NotAJobDirectoryError';
  /** URI of the directory given. */
  readonly dir: string;
  /** Job directories found inside it (it is a storage root), as URIs; empty when none. */
  readonly jobDirs: readonly string[];
  constructor(dir: string, jobDirs: readonly string[], detail: string) {
    super(`${dir} is not a job directory: ${detail}`);
    this.dir = dir;
    this.jobDirs = jobDirs;
  }
}

/** Which check failed: of the metadata file's header and body, or of a name or path read from storage. */
export type CorruptMetadataReason = 'magic' | 'version' | 'checksum' | 'truncated' | 'body' | 'hostile' | 'missing';

/** Where in a checkpoint a bad value sits, for errors that name it. */
export interface CheckpointFault {
  /** Field path of the bad value, e.g. `operators[2].subtasks[0].state.staged[0].seqs[0]`. */
  readonly field?: string;
  /** The offending value as read (a string is shortened to 200 characters). */
  readonly value?: unknown;
}

const shorten = (value: unknown): unknown => (typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}...` : value);

/**
 * A checkpoint (its `_metadata`, a chunk, a channel-state file or a value inside one) cannot be
 * trusted and must not be restored from. `code` is stable for scripts.
 *
 * @example try { await runJob(url, { restoreFrom: 'latest' }); } catch (e) { if (e instanceof CorruptCheckpointError) console.error(e.checkpointId, e.key); }
 */
export class CorruptCheckpointError extends BatonError {
  static override readonly code: string = 'BATON_ERR_CORRUPT_CHECKPOINT';
  override name = 'CorruptCheckpointError';
  /** Number of the checkpoint, when the key names one (`chk-<n>/...`). */
  readonly checkpointId: number | undefined;
  /** Key of the file at fault, relative to the job directory, e.g. `chk-7/_metadata` or `shared/c-1`. */
  readonly key: string;
  readonly reason: CorruptMetadataReason;
  /** What exactly was wrong, e.g. the field path of a bad body. */
  readonly detail: string;
  /** URI of the job directory, when known. */
  readonly jobDir: string | undefined;
  readonly field: string | undefined;
  readonly value: unknown;
  constructor(
    key: string,
    reason: CorruptMetadataReason,
    detail: string,
    jobDir?: string,
    options?: { cause?: unknown; checkpointId?: number } & CheckpointFault,
    what = 'corrupt checkpoint file',
  ) {
    const checkpointId = options?.checkpointId ?? parseCheckpointKey(key)?.checkpointId;
    const where = jobDir === undefined ? key : describeKey(jobDir, key);
    super(`${what} ${where}${checkpointId === undefined ? '' : ` of checkpoint ${checkpointId}`} (${reason}): ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.key = key;
    this.reason = reason;
    this.detail = detail;
    this.jobDir = jobDir;
    this.checkpointId = checkpointId;
    this.field = options?.field;
    this.value = shorten(options?.value);
  }
}

/** A `_metadata` file exists but cannot be trusted; the checkpoint must not be restored from. */
export class CorruptMetadataError extends CorruptCheckpointError {
  static override readonly code: string = 'BATON_ERR_CORRUPT_METADATA';
  override name = 'CorruptMetadataError';
  constructor(key: string, reason: CorruptMetadataReason, detail: string, jobDir?: string, options?: { cause?: unknown } & CheckpointFault) {
    super(key, reason, detail, jobDir, options, 'corrupt checkpoint metadata');
  }
}

/**
 * A name or path read from a checkpoint (a chunk id, a file name, a sink's part file, a source's
 * split path) would leave its directory or does not match the pattern baton writes: storage was
 * tampered with. Raised before anything is touched.
 *
 * @example new HostileCheckpointError('chk-7/_metadata', 7, "operators[1].subtasks[0].state.subtaskIndex", 'X/../../victim', 'a subtask index')
 */
export class HostileCheckpointError extends CorruptCheckpointError {
  static override readonly code: string = 'BATON_ERR_HOSTILE_CHECKPOINT';
  override name = 'HostileCheckpointError';
  /** What baton writes in that field. */
  readonly expected: string;
  constructor(key: string, checkpointId: number | undefined, field: string, value: unknown, expected: string, jobDir?: string) {
    super(key, 'hostile', `${field}: expected ${expected}, got ${describeValue(value)}`, jobDir, { checkpointId, field, value }, 'refusing checkpoint file');
    this.expected = expected;
  }
}

/** A short, printable form of a value read from storage. @example describeValue('a/../b') // '"a/../b"' */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || typeof value === 'bigint') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** The stop request object in a job directory is not a stop request (it is refused, not obeyed). */
export class InvalidStopRequestError extends BatonError {
  static override readonly code: string = 'BATON_ERR_INVALID_STOP_REQUEST';
  override name = 'InvalidStopRequestError';
  /** Where the object is, e.g. `file:///data/jobs/a/handover/stop-request.json`. */
  readonly location: string;
  constructor(location: string) {
    super(`${location} is not a stop request ({ afterCheckpoint, requestedAt, requestedBy })`);
    this.location = location;
  }
}

/** Why a run was fenced: what it found in the job directory. */
export type FenceReason =
  /** Another run created this checkpoint's `_metadata` first (the create-if-absent lost). */
  | 'metadata-exists'
  /** Another run committed a newer checkpoint after the one this run continues from. */
  | 'newer-checkpoint'
  /** A handover's stop checkpoint names another run as the one allowed to take over from it. */
  | 'not-next-owner';

/**
 * Another run owns the job directory: this run must not commit anything more. Raised at the
 * commit point of a checkpoint (before any sink commits it) or, for a handover, before stage 2.
 * A fenced run is never restarted by the restart strategy. `code` is stable for scripts.
 *
 * @example
 * ```ts
 * try { await (await runJob(url, opts)).done; }
 * catch (e) { if (e instanceof FencedError) console.error(`run ${e.runId} lost chk-${e.checkpointId}: ${e.reason}`); }
 * ```
 */
export class FencedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_FENCED';
  override name = 'FencedError';
  /** The checkpoint this run tried to commit (or, for a handover, to take over from). */
  readonly checkpointId: number;
  /** The run that was fenced (undefined when it has no run id, e.g. a tool outside a job). */
  readonly runId: string | undefined;
  readonly reason: FenceReason;
  /** What exactly was found, e.g. the newer checkpoint's id or the run named as next owner. */
  readonly detail: string;
  constructor(checkpointId: number, runId: string | undefined, reason: FenceReason, detail: string) {
    super(`run ${runId ?? '(no run id)'} is fenced at checkpoint ${checkpointId} (${reason}): ${detail}; another run owns the job directory, so this one commits nothing more`);
    this.checkpointId = checkpointId;
    this.runId = runId;
    this.reason = reason;
    this.detail = detail;
  }
}

/** A checkpoint could not be restored (unknown operator, missing chunk, bad state). */
export class StateRestoreError extends BatonError {
  static override readonly code: string = 'BATON_ERR_STATE_RESTORE';
  override name = 'StateRestoreError';
  readonly checkpointId: number;
  readonly operatorUid: string | undefined;
  readonly reason: string;
  constructor(checkpointId: number, operatorUid: string | undefined, reason: string, options?: { cause?: unknown }) {
    super(`cannot restore checkpoint ${checkpointId}${operatorUid === undefined ? '' : ` (operator '${operatorUid}')`}: ${reason}`, options);
    this.checkpointId = checkpointId;
    this.operatorUid = operatorUid;
    this.reason = reason;
  }
}

registerErrors(CheckpointNotFoundError, NoCheckpointToRestoreError, NotAJobDirectoryError, CorruptCheckpointError, CorruptMetadataError, HostileCheckpointError, InvalidStopRequestError, FencedError, StateRestoreError);
