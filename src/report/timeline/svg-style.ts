// Sizes of the SVG in one place. All text is monospace so its width can be known without a font engine.

export const FONT_FAMILY = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
export const FONT_SIZE = 11;
/** Advance of one monospace character at FONT_SIZE (0.6 em, what common monospace fonts use). */
export const CHAR_WIDTH = 6.6;
export const PADDING = 12;
/** Height of one line of text: a marker label row, a legend row, a metrics line. */
export const ROW_HEIGHT = 14;
export const LANE_HEIGHT = 26;
export const LANE_GAP = 10;
export const TITLE_HEIGHT = 24;

/** Width in px of text at FONT_SIZE, counting code points (an emoji is one character, not two). */
export function textWidth(text: string): number {
  return [...text].length * CHAR_WIDTH;
}

/**
 * The text cut to fit `width` px, with an ellipsis when cut.
 *
 * @example fitText('A (blue) deployment', 10 * CHAR_WIDTH) // 'A (blue) …'
 */
export function fitText(text: string, width: number): string {
  const chars = [...text];
  const max = Math.max(1, Math.floor(width / CHAR_WIDTH));
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
