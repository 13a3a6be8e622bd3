// Waiting for one checkpoint's `_metadata` every few ms: its completion starts the blocking window.
import { setTimeout as sleep } from 'node:timers/promises';
import { metadataKey } from '../../checkpoint/index.ts';
import { decodeMetadata } from '../../checkpoint/index.ts';
import { settle } from '../../checkpoint/status/settled-metadata.ts';
import { StorageNotFoundError } from '../../checkpoint/storage/errors.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';

/** How often B checks the next checkpoint's `_metadata` while it waits for A's stop checkpoint (ms). */
export const PROBE_EVERY_MS = 5;

/**
 * Waits up to `forMs` for checkpoint `id`'s `_metadata`, reading it in the same request that finds
 * it (one GET instead of a HEAD then a GET); undefined if it did not appear.
 *
 * @example const metadata = await probeCheckpoint(storage, 9, 100);
 */
export async function probeCheckpoint(storage: CheckpointStorage, id: number, forMs: number): Promise<CheckpointMetadata | undefined> {
  const until = Date.now() + forMs;
  const every = Math.min(forMs, PROBE_EVERY_MS);
  const key = metadataKey(id);
  while (Date.now() < until) {
    try {
      // A `_metadata` still being written may read short (s3rver writes objects in pieces): read again.
      const metadata = await settle(async () => decodeMetadata(await storage.get(key), key, storage.uri));
      if (metadata.checkpointId === id) return metadata;
    } catch (error) {
      if (!(error instanceof StorageNotFoundError)) throw error;
    }
    await sleep(every);
  }
  return undefined;
}
