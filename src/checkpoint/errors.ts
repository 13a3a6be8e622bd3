// Typed errors of reading and restoring checkpoints: each names the checkpoint, file or operator at fault.
import { BatonError } from '../errors/index.ts';
import { describeKey } from './layout.ts';
import type { CheckpointStatus } from './types.ts';

/** A checkpoint that was asked for has no `_metadata` (it is missing, failed or still in progress). */
export class CheckpointNotFoundError extends BatonError {
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

/** Which check of the metadata file failed. */
export type CorruptMetadataReason = 'magic' | 'version' | 'checksum' | 'truncated' | 'body';

/** A `_metadata` file exists but cannot be trusted; the checkpoint must not be restored from. */
export class CorruptMetadataError extends BatonError {
  override name = 'CorruptMetadataError';
  /** Key of the file, relative to the job directory, e.g. `chk-7/_metadata`. */
  readonly key: string;
  readonly reason: CorruptMetadataReason;
  /** What exactly was wrong, e.g. the field path of a bad body. */
  readonly detail: string;
  /** URI of the job directory, when known. */
  readonly jobDir: string | undefined;
  constructor(key: string, reason: CorruptMetadataReason, detail: string, jobDir?: string, options?: { cause?: unknown }) {
    super(`corrupt checkpoint metadata ${jobDir === undefined ? key : describeKey(jobDir, key)} (${reason}): ${detail}`, options);
    this.key = key;
    this.reason = reason;
    this.detail = detail;
    this.jobDir = jobDir;
  }
}

/** A checkpoint could not be restored (unknown operator, missing chunk, bad state). */
export class StateRestoreError extends BatonError {
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
