// Errors of invalid options and settings, and the check that names an unknown option key.
import { BatonError } from './baton-error.ts';

/** A job option or operator setting is invalid; nothing was started. */
export class JobConfigError extends BatonError {
  static override readonly code: string = 'BATON_ERR_JOB_CONFIG';
  override name = 'JobConfigError';
  /** The option or setting at fault, e.g. `parallelism` or `operator 'count' uid`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super(`invalid ${option}: ${message}`);
    this.option = option;
  }
}

/**
 * An option object holds a key baton does not know (a typo such as `intervalMS`, or an option of
 * another object): named instead of ignored, with the likely intended key when one is close.
 * A JobConfigError, so `option` names where it was found.
 *
 * @example
 * ```ts
 * try { env.enableCheckpointing({ intervalMS: 200 } as never); }
 * catch (e) { if (e instanceof UnknownOptionError) console.error(e.key, e.suggestion); } // 'intervalMS', 'intervalMs'
 * ```
 */
export class UnknownOptionError extends JobConfigError {
  static override readonly code: string = 'BATON_ERR_UNKNOWN_OPTION';
  override name = 'UnknownOptionError';
  /** The unknown key as written. */
  readonly key: string;
  /** The known key it most likely meant, if one is close. */
  readonly suggestion: string | undefined;
  /** `option`: where the key was found, with the key, e.g. `handover.timeoutMS` or `enableCheckpointing intervalMS`. */
  constructor(option: string, key: string, known: readonly string[]) {
    const suggestion = closestKey(key, known);
    const hint = suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
    super(option, `unknown option '${key}'${hint} (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
    this.key = key;
    this.suggestion = suggestion;
  }
}

/**
 * Throws UnknownOptionError for the first own key of `options` not in `known`; the error's option
 * is `prefix` + the key (e.g. `enableCheckpointing ` or `enableCheckpointing unaligned.`).
 * Non-objects are left to the caller's own checks.
 *
 * @example rejectUnknownKeys('Sinks.file ', options, ['path', 'format']);
 */
export function rejectUnknownKeys(prefix: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of Object.keys(options)) if (!known.includes(key)) throw new UnknownOptionError(`${prefix}${key}`, key, known);
}

/**
 * The known key `key` most likely meant: the same but for case, or within a small edit distance
 * (a third of its length, at least 1, at most 3). Undefined when none is that close.
 *
 * @example closestKey('intervalMS', ['intervalMs', 'mode']) // 'intervalMs'
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const limit = Math.min(3, Math.max(1, Math.floor(key.length / 3)));
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(lower, k.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { key: k, distance };
  }
  return best?.key;
}

/** Levenshtein distance (insert, delete, substitute), with a swap of neighbours counting once. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}
