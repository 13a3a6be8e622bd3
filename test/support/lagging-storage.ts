// Test helper: storage whose chunk reads lag behind the job that writes them, so a handover's B follows checkpoints the running job is already discarding.
import { type CheckpointStorage, chunkCheckpointId, FileStorage, METADATA_FILE, parseCheckpointKey, registerStorageScheme, S3Storage } from '../../src/internal.ts';
import { delegating } from './delegating-storage.ts';

/** How far chunk reads lag, up to which checkpoint, and whether pins are written at all. */
export interface LagPlan {
  readonly lag: number;
  readonly until: number;
  /** Follower pins are not written (their puts do nothing): the writer's retention discards under the reader. */
  readonly dropPins?: boolean;
}

/**
 * Wraps `inner` so that a read of a shared state chunk written for checkpoint c (its name says c)
 * waits until a checkpoint from min(c + `lag`, `until`) on has completed in the same job directory: by
 * then the writer's retention (`retain: 1`) has discarded c unless something holds it. Waits on
 * storage (an event the writer produces), never on a guessed time; `until` (the handover target)
 * is a checkpoint the writer certainly completes.
 *
 * @example const storage = laggingStorage(new FileStorage(dir), { lag: 2, until: 25 });
 */
export function laggingStorage(inner: CheckpointStorage, plan: LagPlan): CheckpointStorage {
  // Any completed checkpoint from `id` on will do: with `retain: 1` checkpoint `id` itself may
  // be gone again before a poll sees it.
  const completedFrom = async (jobDir: string, id: number) => {
    const prefix = jobDir === '' ? '' : `${jobDir}/`;
    const isCompletedFrom = (key: string) => {
      const parsed = parseCheckpointKey(key.slice(prefix.length));
      return parsed?.file === METADATA_FILE && parsed.checkpointId >= id;
    };
    while (!(await inner.list(jobDir)).some(isCompletedFrom)) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return delegating(inner, {
    put: async (key, data) => {
      if (plan.dropPins && /(^|\/)handover\/pin-[^/]+$/.test(key)) return;
      await inner.put(key, data);
    },
    async get(key) {
      const match = /^(.*\/)?shared\/([^/]+)$/.exec(key);
      const c = match ? chunkCheckpointId(match[2]) : undefined;
      if (match && c !== undefined) await completedFrom((match[1] ?? '').replace(/\/$/, ''), Math.min(c + plan.lag, plan.until));
      return inner.get(key);
    },
  });
}

/**
 * Registers `lagfile:` (a directory) and `lags3:` (S3, with the job's `s3` options) as lagging
 * versions of `file:` and `s3:`, in the thread that calls it (jobs call it in every thread).
 *
 * @example registerLaggingSchemes({ lag: 2, until: 25 }); // then checkpointStorage: 'lagfile:///tmp/x'
 */
export function registerLaggingSchemes(plan: LagPlan): void {
  registerStorageScheme('lagfile', (uri, options) => laggingStorage(new FileStorage(uri.replace(/^lagfile:/i, 'file:'), { timeouts: options.timeouts }), plan));
  registerStorageScheme('lags3', (uri, options) =>
    laggingStorage(new S3Storage(uri.replace(/^lags3:/i, 's3:'), { ...options.s3, timeouts: { ...options.timeouts, ...options.s3?.timeouts } }), plan),
  );
}
