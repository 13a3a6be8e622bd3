// Aligned columns for the terminal.

/**
 * Rows joined into lines with each column padded to its widest cell: left-aligned, or
 * right-aligned where `right[i]` is set (numbers). Trailing spaces are trimmed.
 *
 * @example textTable([['a', '1'], ['bbb', '22']], [false, true]) // ['a     1', 'bbb  22']
 */
export function textTable(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i] - [...cell].length);
        return right[i] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}
