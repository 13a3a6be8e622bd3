// Options of the LMDB keyed state backend, and their validation.
import type { RootDatabase } from 'lmdb';
import { MAX_MAX_PARALLELISM } from '../key-groups.ts';
import type { KeyGroupRange } from '../types.ts';
import type { RestoredFlushMode } from './background-flush.ts';

const DEFAULT_MAX_OVERLAY_ENTRIES = 500_000;
const DEFAULT_FLUSH_SLICE_MS = 2;

/** Options of {@link LmdbKeyedStateBackend}. */
export interface LmdbKeyedStateBackendOptions {
  /** An environment from {@link openStateEnvironment} (shared, left open), or a directory to open one in (owned, closed on dispose). */
  env: RootDatabase | string;
  /** Named database of this backend: one per operator uid and subtask, e.g. `keyed/<uid>/<subtask>`. */
  dbName: string;
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  /** Key groups per snapshot chunk; the default puts the whole key-group range in one chunk. */
  keyGroupsPerChunk?: number;
  /** Overlay size (entries) beyond which writes are flushed to LMDB before the next snapshot. Default 500 000. */
  maxOverlayEntries?: number;
  /**
   * Keep what the named database already holds on open, and leave it in place on dispose (local
   * recovery, tests). Default false: the database starts empty and is dropped on dispose, so the
   * backend lives exactly as long as its heap counterpart would.
   */
  retain?: boolean;
  /**
   * How restored entries ({@link LmdbKeyedStateBackend.applyToOverlay}) reach LMDB: `'background'`
   * (default) in short transactions between turns of the event loop; `'manual'` only through
   * `flushRestoredSlice()` (tests that interleave the flush with reads and writes).
   */
  restoredFlush?: RestoredFlushMode;
  /** Aimed duration of one background flush transaction, in ms (the longest the flush holds the thread). Default 2. */
  flushSliceMs?: number;
}

/** Validated options, with the chunk ranges they imply. */
export interface ResolvedOptions {
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  chunkRanges: KeyGroupRange[];
  maxOverlayEntries: number;
  dbName: string;
  retain: boolean;
  restoredFlush: RestoredFlushMode;
  flushSliceMs: number;
}

/** Checks the options, throwing a RangeError or TypeError that names the bad one. */
export function validateOptions(options: LmdbKeyedStateBackendOptions): ResolvedOptions {
  const { keyGroupRange, maxParallelism, dbName } = options;
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
    throw new RangeError(`maxParallelism must be an integer in [1, ${MAX_MAX_PARALLELISM}], got ${maxParallelism}`);
  }
  const { start, end } = keyGroupRange;
  // end === start - 1 is the empty range a subtask gets when parallelism > maxParallelism.
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end >= maxParallelism || end < start - 1) {
    throw new RangeError(
      `keyGroupRange [${start}, ${end}] is not a valid range of key groups for maxParallelism ${maxParallelism}`,
    );
  }
  const perChunk = options.keyGroupsPerChunk ?? Math.max(1, end - start + 1);
  if (!Number.isInteger(perChunk) || perChunk < 1) {
    throw new RangeError(`keyGroupsPerChunk must be a positive integer, got ${perChunk}`);
  }
  const maxOverlay = options.maxOverlayEntries ?? DEFAULT_MAX_OVERLAY_ENTRIES;
  if (!(maxOverlay >= 1)) throw new RangeError(`maxOverlayEntries must be at least 1, got ${maxOverlay}`);
  if (typeof dbName !== 'string' || dbName === '') throw new TypeError('dbName must be a non-empty string');
  const restoredFlush = options.restoredFlush ?? 'background';
  if (restoredFlush !== 'background' && restoredFlush !== 'manual') throw new TypeError(`restoredFlush must be 'background' or 'manual', got ${String(restoredFlush)}`);
  const flushSliceMs = options.flushSliceMs ?? DEFAULT_FLUSH_SLICE_MS;
  if (!(flushSliceMs > 0)) throw new RangeError(`flushSliceMs must be positive, got ${flushSliceMs}`);

  const ranges: KeyGroupRange[] = [];
  for (let s = start; s <= end; s += perChunk) ranges.push({ start: s, end: Math.min(end, s + perChunk - 1) });
  return {
    keyGroupRange: { start, end },
    maxParallelism,
    chunkRanges: ranges,
    maxOverlayEntries: maxOverlay,
    dbName,
    retain: options.retain ?? false,
    restoredFlush,
    flushSliceMs,
  };
}
