// A view of a storage under a sub-directory, e.g. one job's `<root>/<jobId>/`.
import type { CheckpointStorage } from './storage/types.ts';

/**
 * Keys of the view are relative to `prefix`; the view never reaches outside it.
 *
 * @example
 * const jobDir = scopeStorage(openStorage('s3://bucket/checkpoints'), 'orders');
 * await jobDir.put('chk-1/_metadata', bytes); // s3://bucket/checkpoints/orders/chk-1/_metadata
 */
export function scopeStorage(storage: CheckpointStorage, prefix: string): CheckpointStorage {
  const base = prefix.replace(/\/+$/, '');
  const full = (key: string) => (key === '' ? base : `${base}/${key}`);
  return {
    uri: `${storage.uri.replace(/\/+$/, '')}/${base}`,
    put: (key, data) => storage.put(full(key), data),
    putIfAbsent: (key, data) => storage.putIfAbsent(full(key), data),
    get: (key) => storage.get(full(key)),
    exists: (key) => storage.exists(full(key)),
    list: async (listPrefix) => {
      const keys = await storage.list(full(listPrefix));
      return keys.map((k) => k.slice(base.length + 1));
    },
    ...(storage.listFolders ? { listFolders: (folder: string) => storage.listFolders!(full(folder)) } : {}),
    delete: (keys) => storage.delete(keys.map(full)),
    close: () => storage.close(),
    ...(storage.removeTemporaries ? { removeTemporaries: (prefix: string, before: number) => storage.removeTemporaries!(full(prefix), before) } : {}),
  };
}
