// Committed lines against the expected ones, as counts: lost, duplicated, unexpected. Pure.

export interface LineDiff {
  readonly equal: boolean;
  /** Expected lines missing (counting multiplicity). */
  readonly lost: number;
  /** Extra copies of expected lines. */
  readonly duplicated: number;
  /** Lines no failure-free run commits (a wrong value). */
  readonly wrong: number;
  readonly committed: number;
  readonly expected: number;
  /** A few examples of each, and the counts, in words. */
  readonly summary: string;
}

/**
 * Compares `committed` with `expected` as multisets.
 *
 * @example
 * compareLines(['a', 'a', 'c'], ['a', 'b']).summary; // '1 lost, 1 duplicated, 1 wrong of 2 expected (3 committed) ...'
 */
export function compareLines(committed: readonly string[], expected: readonly string[]): LineDiff {
  const want = new Map<string, number>();
  for (const line of expected) want.set(line, (want.get(line) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const line of committed) got.set(line, (got.get(line) ?? 0) + 1);
  const lost: string[] = [];
  const duplicated: string[] = [];
  const wrong: string[] = [];
  let lostCount = 0;
  let duplicatedCount = 0;
  let wrongCount = 0;
  for (const [line, n] of want) {
    const have = got.get(line) ?? 0;
    if (have < n) {
      lostCount += n - have;
      lost.push(line);
    } else if (have > n) {
      duplicatedCount += have - n;
      duplicated.push(line);
    }
  }
  for (const [line, n] of got) {
    if (want.has(line)) continue;
    wrongCount += n;
    wrong.push(line);
  }
  const equal = lostCount === 0 && duplicatedCount === 0 && wrongCount === 0;
  const examples = (what: string, lines: string[]) => (lines.length > 0 ? `; ${what} e.g. ${lines.slice(0, 3).join(' | ')}` : '');
  const summary =
    `${lostCount} lost, ${duplicatedCount} duplicated, ${wrongCount} wrong of ${expected.length} expected (${committed.length} committed)` +
    examples('lost', lost) +
    examples('duplicated', duplicated) +
    examples('wrong', wrong);
  return { equal, lost: lostCount, duplicated: duplicatedCount, wrong: wrongCount, committed: committed.length, expected: expected.length, summary };
}
