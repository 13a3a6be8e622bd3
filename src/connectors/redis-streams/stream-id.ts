// Redis stream entry IDs (`<ms>-<seq>`, two unsigned 64-bit integers): checking, comparing, reading the time.

const U64_MAX = 18446744073709551615n;
const ID = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/;

/** The smallest ID: every entry of a stream comes after it (Redis itself never assigns 0-0). */
export const MIN_STREAM_ID = '0-0';

/**
 * Whether `value` is an entry ID as Redis writes it: `<ms>-<seq>`, both decimal without leading
 * zeros and at most 2^64-1. Positions read back from a checkpoint must pass this before they reach
 * a Redis command.
 *
 * @example isStreamId('1700000000000-3') // true; isStreamId('$') // false; isStreamId('1-2 3') // false
 */
export function isStreamId(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ID.exec(value);
  return match !== null && BigInt(match[1]) <= U64_MAX && BigInt(match[2]) <= U64_MAX;
}

/**
 * Orders two valid IDs (negative, zero, positive) without BigInt: decimal strings without
 * leading zeros order by length first, then character by character.
 *
 * @example compareStreamIds('9-1', '10-0') // < 0
 */
export function compareStreamIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  return compareDecimal(a.slice(0, da), b.slice(0, db)) || compareDecimal(a.slice(da + 1), b.slice(db + 1));
}

function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The millisecond part of an ID (the time Redis assigned it, for IDs Redis generated), or NaN when
 * it is beyond Number's safe integers.
 *
 * @example streamIdMs('1700000000000-3') // 1700000000000
 */
export function streamIdMs(id: string): number {
  const ms = Number(id.slice(0, id.indexOf('-')));
  return Number.isSafeInteger(ms) ? ms : Number.NaN;
}

/**
 * The position before the first entry at or after `ms`: reading "after" it yields exactly the
 * entries whose ID time is `ms` or later.
 *
 * @example positionBeforeMs(1000) // '999-18446744073709551615'; positionBeforeMs(0) // '0-0'
 */
export function positionBeforeMs(ms: number): string {
  return ms <= 0 ? MIN_STREAM_ID : `${ms - 1}-${U64_MAX}`;
}
