// A segment as a bar in a fixed number of columns: the ASCII chart of the text renderer.

/**
 * `columns` characters with `#` where [from, to] falls inside [0, span] and `.` elsewhere;
 * at least one `#`, so a zero-length status still shows where it happened.
 *
 * @example asciiBar(2000, 5000, 10000, 10) // '..###.....'
 */
export function asciiBar(from: number, to: number, span: number, columns: number): string {
  const scale = span > 0 ? columns / span : 0;
  const first = Math.min(columns - 1, Math.max(0, Math.round(from * scale)));
  const last = Math.max(first + 1, Math.min(columns, Math.round(to * scale)));
  return '.'.repeat(first) + '#'.repeat(last - first) + '.'.repeat(columns - last);
}
