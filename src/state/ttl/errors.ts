// Errors of TTL state.
import { BatonError, registerErrors } from '../../errors/index.ts';

/**
 * State read with a TTL holds a value that was not written with one (the state existed before
 * TTL was turned on for it, as in Flink an incompatible change): use a new state name, or restore
 * without that state. `code` is stable.
 *
 * @example if (e instanceof StateTtlMismatchError) console.error(e.stateName);
 */
export class StateTtlMismatchError extends BatonError {
  static override readonly code: string = 'BATON_ERR_STATE_TTL_MISMATCH';
  override name = 'StateTtlMismatchError';
  constructor(readonly stateName: string) {
    super(
      `state '${stateName}' is declared with a TTL but holds a value written without one (TTL turned on for existing state): give the TTL'd state a new name`,
    );
  }
}

registerErrors(StateTtlMismatchError);
