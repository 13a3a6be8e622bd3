// Reads a local file straight into shared memory, chunk by chunk, with no intermediate copy.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { describeCause } from '../../checkpoint/storage/errors.ts';
import { ReferenceDataError } from './errors.ts';
import { createProgressReporter } from './progress.ts';
import { allocateSharedBuffer, sizeMismatch } from './shared-buffer.ts';
import type { ReferenceDataProgressListener } from './types.ts';

/**
 * Loads the file at `path` (normalized `uri` for messages and progress) into a new `SharedArrayBuffer`.
 * Each `read()` lands in a view over the shared buffer, so peak memory is the file's size, once.
 *
 * @throws ReferenceDataError for a missing file, a directory, a file whose size changes while read, or any I/O error.
 * @example
 * ```ts
 * const buffer = await readFileIntoSharedBuffer('file:///data/rates.bin', '/data/rates.bin', 8 << 20);
 * ```
 */
export async function readFileIntoSharedBuffer(
  uri: string,
  path: string,
  chunkBytes: number,
  onProgress?: ReferenceDataProgressListener,
): Promise<SharedArrayBuffer> {
  const io = <T>(operation: Promise<T>): Promise<T> =>
    operation.catch((error: unknown) => {
      throw fileError(uri, error);
    });
  const handle: FileHandle = await io(open(path, 'r'));
  try {
    // Stat the open handle, not the path: the size then belongs to the very file being read.
    const stats = await io(handle.stat());
    if (!stats.isFile()) throw new ReferenceDataError(uri, 'invalid-uri', 'not a regular file');
    const size = stats.size;
    const buffer = allocateSharedBuffer(uri, size);
    const view = new Uint8Array(buffer);
    const progress = createProgressReporter(uri, size, chunkBytes, onProgress);
    let loaded = 0;
    while (loaded < size) {
      const { bytesRead } = await io(handle.read(view, loaded, Math.min(chunkBytes, size - loaded), loaded));
      if (bytesRead === 0) throw sizeMismatch(uri, size, `the file ended after ${loaded}`);
      loaded += bytesRead;
      progress.advance(loaded);
    }
    // Without this probe a file that grew while being read would load silently truncated.
    const probe = await io(handle.read(new Uint8Array(1), 0, 1, size));
    if (probe.bytesRead > 0) throw sizeMismatch(uri, size, 'the file has more');
    return buffer;
  } finally {
    // Closing a read-only handle cannot lose data; its failure must not hide the load's outcome.
    await handle.close().catch(() => undefined);
  }
}

function fileError(uri: string, error: unknown): ReferenceDataError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ReferenceDataError(uri, 'not-found', 'no such file', { cause: error });
  if (code === 'EISDIR') return new ReferenceDataError(uri, 'invalid-uri', 'not a regular file', { cause: error });
  return new ReferenceDataError(uri, 'io', describeCause(error), { cause: error });
}
