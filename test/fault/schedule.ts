// A kill schedule from a seed: which job, how it checkpoints, and where one failure lands. Pure.
import { seededRandom } from '../support/seeded-random.ts';
import { VARIANTS, type Variant } from './fault-variants.ts';

/** Where the failure lands; each is reached by an event (see describeSchedule), never by a sleep. */
export type KillPoint = 'processing' | 'snapshot' | 'upload' | 'before-metadata' | 'commit' | 'restore' | 'end-of-input';
export const KILL_POINTS: readonly KillPoint[] = ['processing', 'snapshot', 'upload', 'before-metadata', 'commit', 'restore', 'end-of-input'];

/** `worker`: one worker thread ends (process.exit in the thread), the job restarts itself; `process`: the whole process gets SIGKILL and a new one restores from latest. */
export type KillKind = 'worker' | 'process';
export const KILL_KINDS: readonly KillKind[] = ['worker', 'process'];

export interface Schedule {
  readonly seed: number;
  readonly variant: Variant;
  readonly mode: 'aligned' | 'unaligned';
  readonly backpressure: boolean;
  readonly parallelism: 1 | 2 | 3;
  readonly kind: KillKind;
  readonly point: KillPoint;
  /** The checkpoint the kill point refers to (the k-th of the run). */
  readonly checkpoint: number;
}

/**
 * The schedule of `seed`. Kill point and kind go round-robin over the seed (14 consecutive seeds
 * cover every point of both kinds); the rest is drawn from a generator seeded with it.
 *
 * @example
 * scheduleFor(7); // { seed: 7, point: 'processing', kind: 'process', ... }
 */
export function scheduleFor(seed: number): Schedule {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`a seed is a non-negative integer, got ${seed}`);
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  return {
    seed,
    point: KILL_POINTS[seed % KILL_POINTS.length],
    kind: KILL_KINDS[Math.floor(seed / KILL_POINTS.length) % KILL_KINDS.length],
    variant: pick(VARIANTS),
    mode: pick(['aligned', 'unaligned'] as const),
    backpressure: random() < 0.5,
    parallelism: pick([1, 2, 3] as const),
    checkpoint: 2 + Math.floor(random() * 3),
  };
}

/** The schedule in words, for a failure message. */
export function describeSchedule(s: Schedule): string {
  const where: Record<KillPoint, string> = {
    processing: `after checkpoint ${s.checkpoint} completed and its output was committed, while records flow`,
    snapshot: `when the first file of checkpoint ${s.checkpoint} reaches storage (snapshots taken, others still snapshotting or uploading)`,
    upload: `while a keyed-state upload of checkpoint ${s.checkpoint} or later is held at the storage proxy`,
    'before-metadata': `between upload and _metadata: every file of checkpoint ${s.checkpoint} stored, its _metadata PUT held`,
    commit: `during commit: checkpoint ${s.checkpoint}'s _metadata stored, the answer held back, so no sink committed it yet`,
    restore: `during restore: killed once after checkpoint ${s.checkpoint}, then again while the restore's first state read is held`,
    'end-of-input': 'at end of input: the source passed its last record and a part file became visible',
  };
  const job = `${s.variant} job, ${s.mode}, ${s.backpressure ? 'with' : 'without'} backpressure, parallelism ${s.parallelism}`;
  const kill = s.kind === 'worker' ? 'a worker thread ends, the job restarts itself from latest' : 'the process gets SIGKILL, a new one restores from latest';
  return `${job}; ${kill}; ${where[s.point]}`;
}
