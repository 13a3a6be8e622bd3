// Run ids (JobHandle.runId) as they appear in storage: in checkpoint metadata and stop requests.

/** UUIDs and other short opaque ids: letters, digits, `.`, `_`, `:`, `-`, 1 to 128 characters. */
const RUN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Whether `value` may be a run id read from storage. Storage is hostile input: a run id is only
 * compared and printed, never used as a path, but an unbounded or binary string in an error
 * message or a log line is still refused.
 *
 * @example isValidRunId('0b7e5a3c-1f2d-4c55-9a60-2f6f1b8d9e10') // true; isValidRunId('a\nb') // false
 */
export function isValidRunId(value: unknown): value is string {
  return typeof value === 'string' && RUN_ID.test(value);
}

/** What {@link isValidRunId} accepts, for error messages. */
export const RUN_ID_RULE = '1-128 characters of [A-Za-z0-9._:-]';
