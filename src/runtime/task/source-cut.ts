// A cut in a source's input: where each split stands when the source holds, and whether a split reached its cut position.
import { BatonError, registerErrors } from '../../errors/index.ts';

/** One split of a held source subtask: its position, and whether it was read to its end. */
export interface HeldSplit {
  readonly id: string;
  readonly offset: unknown;
  readonly finished: boolean;
}

/**
 * Where a cut is, per source uid: split id → the offset the cut is at (everything before it is
 * on one side, everything from it on the other). A split of the source that is not listed was
 * read to its end on the running side: it is read to its end before the cut.
 */
export type CutPositions = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * A source split went past the cut position: records after the cut were processed on the side
 * that was to stop before them. The cut cannot be made; the promotion fails and the running
 * deployment goes on (or resumes) untouched. `code` is stable.
 *
 * @example if (error instanceof CutPassedError) console.error(error.sourceUid, error.splitId);
 */
export class CutPassedError extends BatonError {
  static override readonly code: string = 'BATON_ERR_CUT_PASSED';
  override name = 'CutPassedError';
  constructor(
    readonly sourceUid: string,
    readonly splitId: string,
    message: string,
  ) {
    super(`source '${sourceUid}', split '${splitId}': ${message}`);
  }
}

/**
 * Whether a split stands at its cut position: true at it (or, for a split the cut does not list,
 * once it is read to its end); false before it; a CutPassedError past it.
 *
 * @example cutReached((a, b) => Number(a) - Number(b), 'numbers', { id: 's-0', offset: 10, finished: false }, { 's-0': 10 }) // true
 */
export function cutReached(compare: (a: unknown, b: unknown) => number, sourceUid: string, split: HeldSplit, limits: Readonly<Record<string, unknown>>): boolean {
  if (!Object.hasOwn(limits, split.id)) return split.finished;
  const order = compare(split.offset, limits[split.id]);
  if (order > 0) throw new CutPassedError(sourceUid, split.id, `at ${JSON.stringify(split.offset)}, past the cut at ${JSON.stringify(limits[split.id])}`);
  if (order < 0 && split.finished) throw new CutPassedError(sourceUid, split.id, `read to its end at ${JSON.stringify(split.offset)}, before the cut at ${JSON.stringify(limits[split.id])}`);
  return order === 0;
}

registerErrors(CutPassedError);
