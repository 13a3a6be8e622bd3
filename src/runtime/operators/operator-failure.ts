// Wraps what a user function throws with the operator and subtask it came from.
import type { OperatorContext } from '../types.ts';

/** Thrown inside a worker; crosses to the main thread as a UserFunctionError. */
export class OperatorFailure extends Error {
  override name = 'OperatorFailure';
  constructor(
    readonly operatorUid: string,
    readonly subtaskIndex: number,
    readonly original: unknown,
  ) {
    super(`operator '${operatorUid}' (subtask ${subtaskIndex}) failed`);
  }
}

/** Keeps the innermost attribution: a failure from a downstream operator passes through unchanged. */
export function userFailure(error: unknown, ctx: OperatorContext): OperatorFailure {
  return error instanceof OperatorFailure ? error : new OperatorFailure(ctx.uid, ctx.subtaskIndex, error);
}
