// Test helper: what a job directory on disk holds — checkpoints by status, chunks, orphans, temp files.
import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rebuildRegistry } from '../../src/checkpoint/registry/chunk-cleaner.ts';
import { parseSharedChunkKey, SHARED_DIR } from '../../src/checkpoint/layout.ts';
import { listCheckpoints } from '../../src/checkpoint/status/checkpoint-status.ts';
import type { CheckpointStorage } from '../../src/checkpoint/storage/index.ts';

export interface JobDirCensus {
  readonly completed: number;
  readonly failed: number;
  /** Checkpoint folders that are neither (IN_PROGRESS / UNKNOWN leftovers). */
  readonly unfinished: number;
  readonly chunks: number;
  /** Chunks under `shared/` that no COMPLETED checkpoint references. */
  readonly orphans: number;
  /** Leftover temporary files of atomic writes (`*.tmp-*`), anywhere in the directory. */
  readonly temps: number;
}

/** Counts what `storage` (a job directory) holds; `path` is that directory on disk, for temp files (which `list` hides). */
export async function censusOfJobDir(storage: CheckpointStorage, path?: string): Promise<JobDirCensus> {
  const checkpoints = await listCheckpoints(storage);
  const chunks = (await storage.list(SHARED_DIR)).map(parseSharedChunkKey).filter((id): id is string => id !== undefined);
  const { registry } = await rebuildRegistry(storage);
  return {
    completed: checkpoints.filter((c) => c.status === 'COMPLETED').length,
    failed: checkpoints.filter((c) => c.status === 'FAILED').length,
    unfinished: checkpoints.filter((c) => c.status !== 'COMPLETED' && c.status !== 'FAILED').length,
    chunks: chunks.length,
    orphans: chunks.filter((id) => !registry.isReferenced(id)).length,
    temps: path === undefined ? 0 : countTemps(path),
  };
}

function countTemps(dir: string): number {
  let n = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) n += countTemps(join(dir, entry.name));
    else if (entry.name.includes('.tmp-')) n++;
  }
  return n;
}
