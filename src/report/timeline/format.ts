// Number formats shared by both renderers, so the text and the picture show the same figures.

/** Offset in seconds with ms precision. @example formatSeconds(1234) // '1.234' */
export function formatSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Duration in ms, whole unless it has a fraction worth showing. @example formatMs(1500) // '1500' */
export function formatMs(ms: number): string {
  return String(Number(ms.toFixed(3)));
}

/**
 * A metric value for display: integers and strings as they are, other numbers without float
 * noise (0.1 + 0.2 shows as 0.3) yet keeping small ones readable.
 *
 * @example formatMetric(0.1 + 0.2) // '0.3'
 */
export function formatMetric(value: number | boolean | string): string {
  if (typeof value !== 'number' || Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  return String(Math.abs(value) >= 1 ? Number(value.toFixed(3)) : Number(value.toPrecision(4)));
}
