// The one error type of reference data loading; it names the URI but never a credential.
import { BatonError, registerErrors } from '../../errors/index.ts';
import type { ReferenceDataErrorKind } from './types.ts';

/**
 * Reference data could not be loaded: missing file or object, unsupported scheme, malformed URI,
 * a size that changed while reading, or any other I/O failure (then the original error is the `cause`).
 *
 * @example
 * ```ts
 * try { await cache.load('s3://ref/rates.bin'); }
 * catch (e) { if (e instanceof ReferenceDataError && e.kind === 'not-found') console.error(e.uri, e.reason); }
 * ```
 */
export class ReferenceDataError extends BatonError {
  static override readonly code: string = 'BATON_ERR_REFERENCE_DATA';
  override name = 'ReferenceDataError';
  /** The URI at fault, normalized when it could be parsed, with any user-info part redacted. */
  readonly uri: string;
  /** What went wrong, e.g. `no such file`. */
  readonly reason: string;
  readonly kind: ReferenceDataErrorKind;
  constructor(uri: string, kind: ReferenceDataErrorKind, reason: string, options?: { cause?: unknown }) {
    super(`cannot load reference data '${uri}': ${reason}`, options);
    this.uri = uri;
    this.kind = kind;
    this.reason = reason;
  }
}

registerErrors(ReferenceDataError);
