// Test helper: waits for files to appear in a directory, on file-system events (no polling, no sleeps).
import { existsSync, type FSWatcher, mkdirSync, watch } from 'node:fs';
import { join } from 'node:path';

export interface DirWatch {
  /** Resolves with the first name (already present, if `existing`; or changed from now on) that `match` accepts. */
  next(match: (name: string) => boolean, existing?: readonly string[]): Promise<string>;
  close(): void;
}

/** Watches `dir` (created if missing) for created and renamed entries. */
export function watchDir(dir: string): DirWatch {
  mkdirSync(dir, { recursive: true });
  const waiters: Array<{ match: (name: string) => boolean; resolve: (name: string) => void }> = [];
  const watcher: FSWatcher = watch(dir, (_event, name) => {
    if (name === null) return;
    for (const w of [...waiters]) {
      if (!w.match(name)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(name);
    }
  });
  return {
    next(match, existing = []) {
      const present = existing.find((name) => match(name) && existsSync(join(dir, name)));
      if (present !== undefined) return Promise.resolve(present);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    close() {
      watcher.close();
    },
  };
}
