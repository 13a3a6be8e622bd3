// Checks of names, paths and numbers read back from a checkpoint: storage is hostile input, and
// a value that is not what baton itself writes there is refused before anything uses it.
import { isAbsolute, normalize, resolve } from 'node:path';

/** Why a stored value was refused: where it is (a path below the value checked), what was expected, what was found. */
export interface StoredValueProblem {
  /** Path below the checked value, e.g. `.staged[0].seqs[1]` (empty: the value itself). */
  readonly field: string;
  readonly expected: string;
  readonly value: unknown;
}

type Check = StoredValueProblem | undefined;

/**
 * Whether `value` is a single file-name segment matching `pattern` (anchored by the caller):
 * no `/`, `\` or NUL, not `.` or `..`, at most 255 characters. A name that passes cannot leave
 * the directory it is joined to.
 *
 * @example isSafeSegment('.part-out-0-3.pending', /^\.part-out-\d+-\d+\.pending$/) // true
 */
export function isSafeSegment(value: unknown, pattern: RegExp): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= 255 &&
    value !== '.' &&
    value !== '..' &&
    !/[/\\\0]/.test(value) &&
    pattern.test(value)
  );
}

/** A non-negative safe integer (subtask index, sequence number, checkpoint id). @example isStoredIndex(3) // true */
export function isStoredIndex(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A problem at `field` unless `ok`. @example storedCheck('.seq', isStoredIndex(v), 'a non-negative integer', v) */
export function storedCheck(field: string, ok: boolean, expected: string, value: unknown): Check {
  return ok ? undefined : { field, expected, value };
}

/** The first problem of `items` checked one by one, with `[i]` added to its field. @example firstStoredProblem(seqs, (s) => ...) */
export function firstStoredProblem<T>(items: readonly T[], each: (item: T, index: number) => Check): Check {
  for (let i = 0; i < items.length; i++) {
    const problem = each(items[i], i);
    if (problem !== undefined) return { ...problem, field: `[${i}]${problem.field}` };
  }
  return undefined;
}

/**
 * Whether `value` names exactly one of the files a job was configured with: an absolute,
 * normalized path equal to one of `files`, or directly inside one of `dirs` (no `..`, no deeper).
 *
 * @example isConfiguredPath('/in/a.txt', { files: [], dirs: ['/in'] }) // true; '/in/../etc/passwd' → false
 */
export function isConfiguredPath(value: unknown, configured: { readonly files: readonly string[]; readonly dirs: readonly string[] }): value is string {
  if (typeof value !== 'string' || value.includes('\0') || !isAbsolute(value)) return false;
  // What was stored must already be the resolved form: '/in/x/../a' is not accepted as '/in/a'.
  if (normalize(value) !== value || resolve(value) !== value) return false;
  if (configured.files.some((f) => resolve(f) === value)) return true;
  return configured.dirs.some((d) => {
    const dir = resolve(d);
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    if (!value.startsWith(prefix)) return false;
    const name = value.slice(prefix.length);
    return isSafeSegment(name, /^[^/]+$/);
  });
}
