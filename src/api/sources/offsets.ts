// Offsets of the built-in sources that are plain numbers (a sequence's next number, an element index, a byte position).

/**
 * `offset` as a number, or a TypeError naming the source: a cut compares offsets read back from
 * checkpoints, which are checked, so anything else is a bug or a tampered checkpoint.
 *
 * @example numericOffset(12, 'Sources.sequence') // 12
 */
export function numericOffset(offset: unknown, source: string): number {
  if (typeof offset !== 'number' || !Number.isFinite(offset)) throw new TypeError(`${source}: offset ${JSON.stringify(offset)} is not a number`);
  return offset;
}
