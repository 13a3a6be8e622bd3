// Labels of nearby markers would print over each other; this spreads them over as few rows as needed.

/** A horizontal extent in px. */
export interface Span {
  readonly left: number;
  readonly right: number;
}

/**
 * Row of each span (same order as given): the lowest row where it keeps `gap` px from every span
 * already there, placing spans from left to right. Rows are 0, 1, 2, ...
 *
 * @example staggerRows([{ left: 0, right: 50 }, { left: 40, right: 90 }, { left: 100, right: 120 }]) // [0, 1, 0]
 */
export function staggerRows(spans: readonly Span[], gap = 4): number[] {
  const order = spans.map((_, i) => i).sort((i, j) => spans[i].left - spans[j].left);
  const rowEnds: number[] = [];
  const rows = new Array<number>(spans.length);
  for (const i of order) {
    let row = rowEnds.findIndex((end) => end + gap <= spans[i].left);
    if (row === -1) row = rowEnds.length;
    rowEnds[row] = spans[i].right;
    rows[i] = row;
  }
  return rows;
}
