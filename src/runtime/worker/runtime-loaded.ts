// A worker thread says once that the runtime's module graph (with lmdb's native addon) is loaded.
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

/** The channel worker threads announce their thread id on once the runtime is loaded (see WorkerPool.destroy). */
export const RUNTIME_LOADED_CHANNEL = 'baton:runtime-loaded';

/** Called at the end of the worker entry's evaluation; nothing to say from the main thread (in-thread runs). */
export function announceRuntimeLoaded(): void {
  if (isMainThread) return;
  const channel = new BroadcastChannel(RUNTIME_LOADED_CHANNEL);
  channel.postMessage(threadId);
  channel.close();
}
