// Test helper: a file storage on which another run wins the create of one checkpoint's _metadata, as a storage scheme jobs can use.
import { type CheckpointStorage, decodeMetadata, encodeMetadata, FileStorage, registerStorageScheme } from '../../src/internal.ts';
import { delegating } from './delegating-storage.ts';

/** The run id the other run's `_metadata` names. */
export const OTHER_RUN_ID = 'another-run';

/**
 * Wraps `inner` so that when this process creates `chk-<checkpointId>/_metadata`, another run's
 * create of the same key lands just before it (the same checkpoint, naming {@link OTHER_RUN_ID}):
 * the race two deployments on one directory run, decided against this one, once.
 *
 * @example const storage = contestedStorage(new FileStorage(dir), 3);
 */
export function contestedStorage(inner: CheckpointStorage, checkpointId: number): CheckpointStorage {
  const contested = new RegExp(`(^|/)chk-${checkpointId}/_metadata$`);
  let raced = false;
  return delegating(inner, {
    async putIfAbsent(key, data) {
      if (!raced && contested.test(key)) {
        raced = true;
        const theirs = { ...decodeMetadata(data, key), runId: OTHER_RUN_ID };
        await inner.putIfAbsent(key, encodeMetadata(theirs));
      }
      return inner.putIfAbsent(key, data);
    },
  });
}

/**
 * Registers the `contested:` scheme: `contested:///abs/dir` is the directory `/abs/dir` on which
 * another run wins the create of checkpoint `checkpointId` (see {@link contestedStorage}).
 *
 * @example registerContestedScheme(3); // then checkpointStorage: 'contested:///tmp/x'
 */
export function registerContestedScheme(checkpointId: number): void {
  registerStorageScheme('contested', (uri, options) => contestedStorage(new FileStorage(uri.replace(/^contested:/i, 'file:'), { timeouts: options.timeouts }), checkpointId));
}
