// Allocation of the one shared copy, and the size check every reader ends with.
import { ReferenceDataError } from './errors.ts';

/**
 * A zero-filled `SharedArrayBuffer` of `bytes`.
 *
 * @throws ReferenceDataError (kind `io`) naming `uri` when the memory cannot be had.
 * @example
 * ```ts
 * const view = new Uint8Array(allocateSharedBuffer(uri, size));
 * ```
 */
export function allocateSharedBuffer(uri: string, bytes: number): SharedArrayBuffer {
  try {
    return new SharedArrayBuffer(bytes);
  } catch (error) {
    // V8 throws a bare RangeError ("Array buffer allocation failed") that would not say which data.
    throw new ReferenceDataError(uri, 'io', `cannot allocate ${bytes} bytes of shared memory`, { cause: error });
  }
}

/**
 * The error for data whose length differs from the size announced before reading it.
 *
 * @example
 * ```ts
 * if (loaded !== size) throw sizeMismatch(uri, size, `the object ended after ${loaded} bytes`);
 * ```
 */
export function sizeMismatch(uri: string, expectedBytes: number, detail: string): ReferenceDataError {
  return new ReferenceDataError(uri, 'size-mismatch', `expected ${expectedBytes} bytes but ${detail} (was it changed while loading?)`);
}
