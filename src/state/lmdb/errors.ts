// Errors of the LMDB keyed state backend that callers may want to tell apart.
import { BatonError, registerErrors } from '../../errors/index.ts';

/**
 * Writing restored entries into LMDB in the background failed (disk full, map full, ...). The
 * entries are still served from memory, so reads stay right, but the backend refuses the next
 * snapshot with this error rather than go on with a local store it cannot trust to fill: the job
 * fails and restarts from its checkpoint, which holds those entries.
 *
 * @example
 * try { backend.snapshot() } catch (e) { if (e instanceof StateFlushError) console.error(e.code, e.cause) }
 */
export class StateFlushError extends BatonError {
  static override readonly code: string = 'BATON_ERR_STATE_FLUSH';
  override name = 'StateFlushError';
  constructor(dbName: string, cause: unknown) {
    super(`writing restored keyed state into LMDB database "${dbName}" failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

registerErrors(StateFlushError);
