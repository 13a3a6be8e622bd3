// Errors of keyed-state snapshots: a chunk that fails validation is reported, never half-applied.
import { BatonError, registerErrors } from '../../errors/index.ts';

/**
 * A keyed-state chunk failed validation on decode (bad magic, unknown version or flags,
 * checksum mismatch, truncation, malformed payload), or its entries do not fit together when
 * restored (an entry of a state with no state table row).
 *
 * @example
 * try { decodeChunk(bytes, 'shared/abc') } catch (e) {
 *   if (e instanceof ChunkCorruptError) console.error(e.chunk, e.reason);
 * }
 */
export class ChunkCorruptError extends BatonError {
  static override readonly code: string = 'BATON_ERR_CHUNK_CORRUPT';
  override name = 'ChunkCorruptError';
  /** Name of the chunk (file name or id) as passed to the decoder; undefined where a restore no longer knows it. */
  readonly chunk: string | undefined;
  /** What was wrong, e.g. `checksum mismatch`. */
  readonly reason: string;

  constructor(chunk: string | undefined, reason: string) {
    super(`keyed-state chunk ${chunk === undefined ? '' : `${chunk} `}is corrupt: ${reason}`);
    this.chunk = chunk;
    this.reason = reason;
  }
}

registerErrors(ChunkCorruptError);
