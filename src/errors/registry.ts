// Error classes by code: what lets an error thrown in one thread be rebuilt as its own class in another.
import { BatonError, BatonInternalError, ForeignError } from './baton-error.ts';
import { JobConfigError, UnknownOptionError } from './config-errors.ts';

/** A BatonError class as the registry holds it: its static `code` names it. */
export type BatonErrorClass = (abstract new (...args: never[]) => BatonError) & { readonly code: string };

const byCode = new Map<string, BatonErrorClass>();

/**
 * Makes error classes revivable across threads: an error of one of them thrown in a worker reaches
 * the main thread as the same class (`instanceof` works), with its fields, `code` and the worker's
 * stack. Baton registers its own; a job registers the BatonError subclasses it throws from its
 * functions (in the job module, which both threads load). Each class needs a static `code` of its
 * own, unique among registered classes; registering a class twice does nothing.
 *
 * @example
 * ```ts
 * export class PaymentDeclinedError extends BatonError {
 *   static override readonly code = 'APP_ERR_PAYMENT_DECLINED';
 *   override name = 'PaymentDeclinedError';
 * }
 * registerErrors(PaymentDeclinedError);
 * ```
 */
export function registerErrors(...classes: readonly BatonErrorClass[]): void {
  for (const errorClass of classes) {
    if (!Object.hasOwn(errorClass, 'code') || typeof errorClass.code !== 'string' || errorClass.code === '') {
      throw new JobConfigError(`registerErrors ${errorClass.name}`, 'the class needs a static code of its own (e.g. static override readonly code = "APP_ERR_...")');
    }
    const known = byCode.get(errorClass.code);
    if (known === undefined) byCode.set(errorClass.code, errorClass);
    // The same class loaded twice (from the sources and from the build) keeps its first copy.
    else if (known !== errorClass && known.name !== errorClass.name) {
      throw new JobConfigError(`registerErrors ${errorClass.name}`, `code ${errorClass.code} is already the code of ${known.name}`);
    }
  }
}

/** The registered class of `code`, if any. @example errorClassOf('BATON_ERR_FENCED') // FencedError */
export function errorClassOf(code: string): BatonErrorClass | undefined {
  return byCode.get(code);
}

/** Every registered class, in registration order. @example registeredErrors().map((c) => c.code) */
export function registeredErrors(): BatonErrorClass[] {
  return [...byCode.values()];
}

registerErrors(BatonError, BatonInternalError, ForeignError, JobConfigError, UnknownOptionError);
