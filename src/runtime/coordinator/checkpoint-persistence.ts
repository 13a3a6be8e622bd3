// Writes what the checkpoint coordinator decides into storage: metadata last, failure markers, discards.
import { checkpointDir, metadataKey, sharedChunkKey } from '../../checkpoint/layout.ts';
import { encodeMetadata } from '../../checkpoint/metadata/metadata-codec.ts';
import { listCheckpoints, readMetadata, writeFailedMarker } from '../../checkpoint/status/checkpoint-status.ts';
import type { CheckpointStorage } from '../../checkpoint/storage/types.ts';
import type { CheckpointMetadata } from '../../checkpoint/types.ts';
import { chunkIdsOf } from '../../checkpoint/registry/shared-chunk-registry.ts';
import type { CheckpointPersistence } from './checkpoint-driver.ts';


export class StorageCheckpointPersistence implements CheckpointPersistence {
  constructor(private readonly storage: CheckpointStorage) {}

  /** `_metadata` is one atomic write, after every chunk it names is stored: its existence means COMPLETED. */
  async writeMetadata(metadata: CheckpointMetadata): Promise<void> {
    await this.storage.put(metadataKey(metadata.checkpointId), encodeMetadata(metadata));
  }

  writeFailed(id: number, reason: string): Promise<void> {
    return writeFailedMarker(this.storage, id, reason);
  }

  /**
   * Deletes discarded checkpoints and the shared chunks only they used. What is still in use is
   * read from storage (every remaining COMPLETED checkpoint), not from memory, so chunks another
   * process's checkpoints need are never removed.
   */
  async discard(ids: readonly number[]): Promise<void> {
    const candidates = new Set<string>();
    for (const id of ids) {
      try {
        for (const chunk of chunkIdsOf(await readMetadata(this.storage, id))) candidates.add(chunk);
      } catch {
        // A discarded checkpoint whose metadata is gone or corrupt frees nothing.
      }
    }
    for (const id of ids) {
      const keys = await this.storage.list(`${checkpointDir(id)}/`);
      // Metadata first: from then on the checkpoint no longer reads as COMPLETED.
      await this.storage.delete([metadataKey(id)]);
      await this.storage.delete(keys);
    }
    const discarded = new Set(ids);
    for (const entry of await listCheckpoints(this.storage)) {
      if (entry.status !== 'COMPLETED' || discarded.has(entry.id)) continue;
      try {
        for (const chunk of chunkIdsOf(await readMetadata(this.storage, entry.id))) candidates.delete(chunk);
      } catch {
        // Unreadable metadata: keep everything rather than risk a chunk it might reference.
        return;
      }
    }
    await this.storage.delete([...candidates].map(sharedChunkKey));
  }
}
