// Errors of baton/testing, with stable codes.
import { BatonError, registerErrors } from '../errors/index.ts';

/**
 * A test named an input, output or operator the job does not have (or did not replace): the
 * message lists the ones it has.
 *
 * @example
 * ```ts
 * try { driver.input('clciks'); } catch (e) { if (e instanceof UnknownTestTargetError) console.log(e.known); }
 * ```
 */
export class UnknownTestTargetError extends BatonError {
  static override readonly code: string = 'BATON_ERR_TEST_UNKNOWN_TARGET';
  override name = 'UnknownTestTargetError';
  constructor(
    readonly kind: 'input' | 'output' | 'keyed operator',
    readonly uid: string,
    readonly known: readonly string[],
  ) {
    super(`the job has no ${kind} '${uid}'${known.length > 0 ? ` (it has: ${known.map((k) => `'${k}'`).join(', ')})` : ` (it has none)`}`);
  }
}

/**
 * The test driver cannot do what was asked in the job's current state (e.g. push to an input
 * that was ended, or read from a driver whose job has ended).
 */
export class TestDriverStateError extends BatonError {
  static override readonly code: string = 'BATON_ERR_TEST_DRIVER_STATE';
  override name = 'TestDriverStateError';
}

registerErrors(UnknownTestTargetError, TestDriverStateError);
