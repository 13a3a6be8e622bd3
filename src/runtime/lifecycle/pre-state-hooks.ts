// Runs a job's pre-state-load hooks in one worker, in registration order, timing each.
import type { PreStateHook, PreStateHookContext } from '../types.ts';

/** Thrown when a hook fails; names the hook so the coordinator can report it. */
export class HookRunFailure extends Error {
  override name = 'HookRunFailure';
  constructor(
    readonly hookName: string,
    readonly original: unknown,
  ) {
    super(`pre-state-load hook '${hookName}' failed`);
  }
}

export async function runPreStateHooks(hooks: readonly PreStateHook[], ctx: PreStateHookContext): Promise<Record<string, number>> {
  const durations: Record<string, number> = {};
  for (const hook of hooks) {
    const started = performance.now();
    try {
      await hook.run(ctx);
    } catch (error) {
      throw new HookRunFailure(hook.name, error);
    }
    durations[hook.name] = performance.now() - started;
  }
  return durations;
}
