// Error classes every layer shares (api, runtime, state, checkpoint all import them from here).

/** Base class so callers can catch every baton error at once. */
export class BatonError extends Error {
  override name = 'BatonError';
}

/** A job option or operator setting is invalid; nothing was started. */
export class JobConfigError extends BatonError {
  override name = 'JobConfigError';
  /** The option or setting at fault, e.g. `parallelism` or `operator 'count' uid`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super(`invalid ${option}: ${message}`);
    this.option = option;
  }
}
