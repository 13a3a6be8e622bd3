// Shared helpers of the source and sink tests.
import { expect } from 'vitest';
import { JobConfigError } from '../../src/runtime/errors.ts';
import { NO_TIMESTAMP, type SourceReader } from '../../src/runtime/types.ts';

/** Reads a split to its end synchronously; every record must come without a timestamp. */
export function drain<T>(reader: SourceReader<T>, max = 1000): T[] {
  const out: T[] = [];
  while (!reader.finished) {
    const n = reader.poll(max, (value, ts) => {
      expect(ts).toBe(NO_TIMESTAMP);
      out.push(value);
    });
    expect(typeof n).toBe('number');
  }
  return out;
}

/** Runs `run`, which must throw a JobConfigError, and returns that error. */
export function configError(run: () => void): JobConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(JobConfigError);
    return error as JobConfigError;
  }
  throw new Error('expected a JobConfigError');
}
