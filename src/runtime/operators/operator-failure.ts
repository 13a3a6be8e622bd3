// Wraps what a user function throws with the operator and subtask it came from.
import { UserFunctionError } from '../errors.ts';
import type { OperatorContext } from '../types.ts';

/**
 * What a user function threw, as a UserFunctionError naming this operator and subtask. Keeps the
 * innermost attribution: a failure from a downstream operator passes through unchanged.
 *
 * @example try { fn(value) } catch (error) { throw userFailure(error, ctx); }
 */
export function userFailure(error: unknown, ctx: OperatorContext): UserFunctionError {
  return error instanceof UserFunctionError ? error : new UserFunctionError(ctx.uid, ctx.subtaskIndex, error);
}
