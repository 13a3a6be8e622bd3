// The root of baton's error hierarchy, and the two generic kinds every layer may throw.

/**
 * Base class of every error baton throws, so callers can catch them all at once. Each subclass
 * has a stable `code` (a static of the class, copied onto every instance): switch on it rather than
 * on messages, which may change. The README's "Errors" section lists every code.
 *
 * @example
 * ```ts
 * job.done.catch((e) => {
 *   if (e instanceof BatonError && e.code === 'BATON_ERR_FENCED') process.exit(0); // another run owns the job
 *   throw e;
 * });
 * ```
 */
export class BatonError extends Error {
  /** Stable identifier of this class of failure; every subclass sets its own. */
  static readonly code: string = 'BATON_ERR_GENERIC';
  override name = 'BatonError';
  /** The stable identifier of this failure (its class's `code`), e.g. `BATON_ERR_STORAGE_IO`. */
  readonly code: string;
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = (new.target as unknown as { readonly code: string }).code;
  }
}

/**
 * A rule baton relies on was broken inside baton itself (a message out of order, a state that
 * cannot happen): a bug to report, never the user's input. The message says which rule.
 *
 * @example throw new BatonInternalError('checkpoint triggered without checkpoint storage');
 */
export class BatonInternalError extends BatonError {
  static override readonly code: string = 'BATON_ERR_INTERNAL';
  override name = 'BatonInternalError';
}

/**
 * An error that crossed a thread boundary whose class this thread does not know: a user's own
 * error class that was not registered with `registerErrors`, or a library's (a database driver's,
 * the AWS SDK's). It carries what the original carried: `name`, `message`, the original thread's
 * `stack`, its own enumerable fields of plain values, and `code` when the original had one (else
 * `BATON_ERR_FOREIGN`). Never a plain Error in disguise: `instanceof ForeignError` tells it apart.
 *
 * @example
 * ```ts
 * job.done.catch((e) => { if (e.cause instanceof ForeignError && e.cause.name === 'ReplyError') retryLater(); });
 * ```
 */
export class ForeignError extends BatonError {
  static override readonly code: string = 'BATON_ERR_FOREIGN';
  override name = 'ForeignError';
  constructor(name: string, code: string | undefined, message: string) {
    super(message);
    this.name = name;
    if (code !== undefined) (this as { code: string }).code = code;
  }
}
