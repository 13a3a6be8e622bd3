// Test helper: a checkpoint storage that forwards every call to another, except those a test wraps.
import type { CheckpointStorage } from '../../src/internal.ts';

/**
 * `inner` with the methods in `overrides` replaced: every other call (optional ones included,
 * when `inner` has them) goes to `inner` unchanged. The fault-injecting storages of the tests are
 * this plus the one or two calls they disturb.
 *
 * @example const slow = delegating(inner, { get: async (key) => { await sleep(5); return inner.get(key); } });
 */
export function delegating(inner: CheckpointStorage, overrides: Partial<Omit<CheckpointStorage, 'uri'>>): CheckpointStorage {
  return {
    uri: inner.uri,
    put: (key, data) => inner.put(key, data),
    putIfAbsent: (key, data) => inner.putIfAbsent(key, data),
    get: (key) => inner.get(key),
    exists: (key) => inner.exists(key),
    list: (prefix) => inner.list(prefix),
    ...(inner.listFolders ? { listFolders: (prefix: string) => inner.listFolders!(prefix) } : {}),
    delete: (keys) => inner.delete(keys),
    close: () => inner.close(),
    ...(inner.removeTemporaries ? { removeTemporaries: (prefix: string, before: number) => inner.removeTemporaries!(prefix, before) } : {}),
    ...overrides,
  };
}
