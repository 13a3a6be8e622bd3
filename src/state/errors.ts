// Errors of keyed state that both backends (heap and LMDB) raise the same way.
import { BatonError, registerErrors } from '../errors/index.ts';
import type { StateKind } from './types.ts';

/**
 * A state name is used as two kinds of state (e.g. `valueState('count')` and `mapState('count')`
 * in one operator), or a checkpoint holds it as another kind than the job now declares: give the
 * new kind a new name.
 *
 * @example catch (e) { if (e instanceof StateKindConflictError) console.error(e.stateName, e.registeredKind, e.requestedKind); }
 */
export class StateKindConflictError extends BatonError {
  static override readonly code: string = 'BATON_ERR_STATE_KIND_CONFLICT';
  override name = 'StateKindConflictError';
  /** `restoring`: the conflict is between the checkpoint being restored and the state registered now. */
  constructor(
    readonly stateName: string,
    readonly registeredKind: StateKind,
    readonly requestedKind: StateKind,
    restoring = false,
  ) {
    super(
      restoring
        ? `cannot restore state "${stateName}" as ${requestedKind} state: it is registered as ${registeredKind} state`
        : `state "${stateName}" is already registered as ${registeredKind} state; cannot use it as ${requestedKind} state`,
    );
  }
}

/**
 * Keyed state was read or written with no current key: outside the processing of a keyed record
 * or timer (e.g. in `open()`, or from a callback that runs later).
 *
 * @example open(ctx) { ctx.state.valueState('n').value(); } // throws this: no record, so no key
 */
export class NoCurrentKeyError extends BatonError {
  static override readonly code: string = 'BATON_ERR_NO_CURRENT_KEY';
  override name = 'NoCurrentKeyError';
  constructor() {
    super('no current key: setCurrentKey() must be called before accessing keyed state');
  }
}

/**
 * Keyed state was used after its backend was disposed (the subtask ended, failed or restarted):
 * a callback or a kept state handle outlived the operator.
 *
 * @example setTimeout(() => count.update(1), 60_000); // after the job ended: throws this
 */
export class StateBackendDisposedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_STATE_DISPOSED';
  override name = 'StateBackendDisposedError';
  /** The state being created, when that is what was asked. */
  readonly stateName: string | undefined;
  constructor(stateName?: string) {
    super(stateName === undefined ? 'the keyed state backend is disposed' : `cannot create state "${stateName}": the keyed state backend is disposed`);
    this.stateName = stateName;
  }
}

registerErrors(StateKindConflictError, NoCurrentKeyError, StateBackendDisposedError);
