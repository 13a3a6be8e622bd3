// Test helper: a file storage whose writes fail (EIO, ENOSPC) on a seeded fraction of calls, as a storage scheme jobs can use.
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { type CheckpointStorage, FileStorage, registerStorageScheme, StorageIoError } from '../../src/internal.ts';
import { delegating } from './delegating-storage.ts';
import { type Random, seededRandom } from './seeded-random.ts';

export type FileFaultKind = 'EIO' | 'ENOSPC';

export interface FileFaultPlan {
  /** Fraction of writes (`put`) that fail, 0..1. */
  readonly rate: number;
  readonly kinds: readonly FileFaultKind[];
  readonly seed: number;
  /** Each injected fault appends `<kind> <key>` to this file (every thread of a job shares it). */
  readonly log?: string;
}

const MESSAGES: Record<FileFaultKind, string> = {
  EIO: 'EIO: i/o error, write',
  ENOSPC: 'ENOSPC: no space left on device, write',
};

/**
 * Wraps `inner` so that a seeded fraction of its writes (`put`, `putIfAbsent`) fail as a disk would: a StorageIoError
 * whose cause is an errno error (EIO, ENOSPC). Nothing is written by a failed put, as with a
 * failed temp-file write that the file storage removes.
 *
 * @example const storage = faultyStorage(new FileStorage(dir), { rate: 0.15, kinds: ['EIO', 'ENOSPC'], seed: 7 });
 */
export function faultyStorage(inner: CheckpointStorage, plan: FileFaultPlan, random: Random = seededRandom(plan.seed)): CheckpointStorage {
  /** A seeded share of writes (plain or create-if-absent) fail before anything is written. */
  const maybeFail = (key: string) => {
    if (random() >= plan.rate) return;
    const kind = plan.kinds[Math.floor(random() * plan.kinds.length)];
    if (plan.log) appendFileSync(plan.log, `${kind} ${key}\n`);
    const cause = Object.assign(new Error(MESSAGES[kind]), { code: kind, errno: kind === 'EIO' ? -5 : -28 });
    throw new StorageIoError(inner.uri, key, 'put', cause);
  };
  return delegating(inner, {
    async put(key, data) {
      maybeFail(key);
      await inner.put(key, data);
    },
    async putIfAbsent(key, data) {
      maybeFail(key);
      return inner.putIfAbsent(key, data);
    },
  });
}

/**
 * Registers the `faultyfile:` scheme: `faultyfile:///abs/dir` is the directory `/abs/dir` with
 * writes failing by `plan`. Each thread gets its own sequence (the seed plus its thread id).
 *
 * @example registerFaultyFileScheme({ rate: 0.15, kinds: ['EIO'], seed: 7 }); // then checkpointStorage: 'faultyfile:///tmp/x'
 */
export function registerFaultyFileScheme(plan: FileFaultPlan): void {
  registerStorageScheme('faultyfile', (uri, options) =>
    faultyStorage(new FileStorage(uri.replace(/^faultyfile:/i, 'file:'), { timeouts: options.timeouts }), plan, seededRandom(plan.seed + threadId)),
  );
}
