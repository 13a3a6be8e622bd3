// Storage keys: validation that keeps every key inside the storage root, joining, ordering.
import { InvalidStorageKeyError } from './errors.ts';

/**
 * Marks the temporary files of atomic writes on a file system. A key segment may not contain it,
 * so `list` can skip leftovers of a crashed write on every backend alike.
 */
export const TEMP_MARKER = '.tmp-';

/** Why `key` is not a valid storage key, or undefined if it is. */
export function storageKeyProblem(key: string): string | undefined {
  if (typeof key !== 'string') return 'is not a string';
  if (key === '') return 'is empty';
  if (key.includes('\0')) return 'contains a NUL character';
  if (key.includes('\\')) return "contains a backslash (use '/' to separate segments)";
  if (key.startsWith('/')) return "is absolute (starts with '/'); keys are relative to the storage root";
  for (const segment of key.split('/')) {
    if (segment === '') return "has an empty segment ('//' or a trailing '/')";
    if (segment === '.') return "contains a '.' segment";
    if (segment === '..') return "contains a '..' segment";
    if (segment.includes(TEMP_MARKER)) return `contains '${TEMP_MARKER}', reserved for temporary files`;
  }
  return undefined;
}

/**
 * Checks that `key` is a relative `/`-separated path that stays inside the storage root:
 * no leading `/`, no empty, `.` or `..` segments, no backslash, no NUL. Returns it unchanged.
 *
 * @throws InvalidStorageKeyError naming the key and the reason.
 * @example
 * ```ts
 * validateStorageKey('chk-3/_metadata'); // 'chk-3/_metadata'
 * validateStorageKey('../x');            // throws InvalidStorageKeyError
 * ```
 */
export function validateStorageKey(key: string): string {
  const problem = storageKeyProblem(key);
  if (problem !== undefined) throw new InvalidStorageKeyError(key, problem);
  return key;
}

/**
 * Validates a `list` prefix and returns it as a folder path without the trailing `/`
 * (`''` means the whole root). A prefix names a folder, never a partial segment: `chk-1` lists
 * `chk-1/...` but not `chk-10/...`, so deleting what a listing returned cannot hit a neighbour.
 *
 * @example
 * ```ts
 * normalizeListPrefix('chk-1/'); // 'chk-1'
 * normalizeListPrefix('');       // ''
 * ```
 */
export function normalizeListPrefix(prefix: string): string {
  if (prefix === '') return '';
  const folder = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = storageKeyProblem(folder);
  if (problem !== undefined) throw new InvalidStorageKeyError(prefix, problem);
  return folder;
}

/**
 * Joins key parts with `/` and validates the result; parts may themselves contain `/`.
 *
 * @throws InvalidStorageKeyError if the joined key is invalid (e.g. an empty part).
 * @example
 * ```ts
 * joinKey('orders', 'chk-117', '_metadata'); // 'orders/chk-117/_metadata'
 * ```
 */
export function joinKey(...parts: string[]): string {
  return validateStorageKey(parts.join('/'));
}

/**
 * The one order every backend returns keys in (UTF-16 code units, i.e. plain string order),
 * so the same objects list identically on a file system and on S3.
 *
 * @example
 * ```ts
 * ['chk-2/b', 'chk-10/a'].sort(compareKeys); // ['chk-10/a', 'chk-2/b']
 * ```
 */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
