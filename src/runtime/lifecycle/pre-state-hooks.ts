// Runs a job's pre-state-load hooks in one worker, in registration order, timing each.
import { PreStateHookError } from '../errors.ts';
import type { PreStateHook, PreStateHookContext } from '../types.ts';

/**
 * Runs the hooks one after the other and returns how long each took (ms). A hook that throws
 * stops the rest: rejects with a PreStateHookError naming the hook and this worker.
 *
 * @example const hookMs = await runPreStateHooks(graph.hooks, { workerIndex: 0, workers: 2, jobId, loadReferenceData });
 */
export async function runPreStateHooks(hooks: readonly PreStateHook[], ctx: PreStateHookContext): Promise<Record<string, number>> {
  const durations: Record<string, number> = {};
  for (const hook of hooks) {
    const started = performance.now();
    try {
      await hook.run(ctx);
    } catch (error) {
      throw new PreStateHookError(hook.name, ctx.workerIndex, error);
    }
    durations[hook.name] = performance.now() - started;
  }
  return durations;
}
