// Time-to-live of keyed state: the options a user gives and what they resolve to.
import { JobConfigError, rejectUnknownKeys } from '../../errors/index.ts';

/** When the last-access timestamp of a TTL'd value is refreshed. */
export type TtlUpdateType = 'on-create-and-write' | 'on-read-and-write';

/** Whether an expired value not yet cleaned up may still be returned. */
export type TtlVisibility = 'never-return-expired' | 'return-expired-if-not-cleaned';

/**
 * Time-to-live of keyed state, on processing time (the operator's clock; a manual one under
 * testJob). A value expires `ms` after its last write (or read, with `update: 'on-read-and-write'`).
 *
 * @example ctx.valueState<number>('clicks', { ttl: { ms: 3_600_000 } })
 */
export interface StateTtlConfig {
  /** Time to live in milliseconds (> 0). */
  readonly ms: number;
  /** Default `'on-create-and-write'`. */
  readonly update?: TtlUpdateType;
  /** Default `'never-return-expired'`. */
  readonly visibility?: TtlVisibility;
}

/** Options of a keyed state handle. */
export interface StateOptions {
  readonly ttl?: StateTtlConfig;
}

export interface ResolvedTtl {
  readonly ms: number;
  readonly updateOnRead: boolean;
  readonly returnExpired: boolean;
}

/**
 * Checks a state's TTL options; undefined when it has none. Throws JobConfigError naming the
 * state and the option at fault.
 *
 * @example resolveTtl('clicks', { ttl: { ms: 60_000 } }) // { ms: 60000, updateOnRead: false, returnExpired: false }
 */
export function resolveTtl(stateName: string, options: StateOptions | undefined): ResolvedTtl | undefined {
  if (options === undefined) return undefined;
  const where = `state '${stateName}'`;
  if (typeof options !== 'object' || options === null) throw new JobConfigError(where, 'options must be an object such as { ttl: { ms } }');
  rejectUnknownKeys(`${where} `, options, ['ttl']);
  const ttl = options.ttl;
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'object' || ttl === null) throw new JobConfigError(`${where} ttl`, 'expected { ms, update?, visibility? }');
  rejectUnknownKeys(`${where} ttl.`, ttl, ['ms', 'update', 'visibility']);
  if (typeof ttl.ms !== 'number' || !Number.isFinite(ttl.ms) || ttl.ms <= 0) {
    throw new JobConfigError(`${where} ttl.ms`, `must be a number of milliseconds > 0, got ${String(ttl.ms)}`);
  }
  const update = ttl.update ?? 'on-create-and-write';
  if (update !== 'on-create-and-write' && update !== 'on-read-and-write') {
    throw new JobConfigError(`${where} ttl.update`, `must be 'on-create-and-write' or 'on-read-and-write', got '${String(update)}'`);
  }
  const visibility = ttl.visibility ?? 'never-return-expired';
  if (visibility !== 'never-return-expired' && visibility !== 'return-expired-if-not-cleaned') {
    throw new JobConfigError(`${where} ttl.visibility`, `must be 'never-return-expired' or 'return-expired-if-not-cleaned', got '${String(visibility)}'`);
  }
  return { ms: ttl.ms, updateOnRead: update === 'on-read-and-write', returnExpired: visibility === 'return-expired-if-not-cleaned' };
}
