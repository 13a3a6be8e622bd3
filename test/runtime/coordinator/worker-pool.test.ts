import { describe, expect, it } from 'vitest';
import { runtimeBuild } from '../../../src/runtime/code/index.ts';
import { WorkerPool } from '../../../src/runtime/coordinator/worker-pool.ts';

describe('WorkerPool.destroy', () => {
  // A job that fails at start-up destroys its pool while the threads still load the runtime; a
  // thread terminated inside lmdb's native initialization can abort the whole process.
  it('terminates a thread only after its runtime (with lmdb) loaded, even when destroyed at once', async () => {
    const build = await runtimeBuild();
    for (let round = 0; round < 3; round++) {
      const pool = new WorkerPool(2, { workerUrl: build.entry('worker'), jobModule: new Promise<string>(() => {}) });
      await pool.destroy();
      expect(pool.createdThreads).toBe(2);
      expect(pool.loadedThreads).toBe(2);
      expect(pool.liveThreads).toBe(0);
    }
  });
});
