// Test helper: wait for a job's next event that passes a check (a checkpoint, a status), failing fast
// when the job ends first, so tests synchronize on what the job reports, never on sleeps.
import type { CheckpointStats, JobHandle, StatusEvent } from '../../src/index.ts';

/**
 * Resolves once `accept` holds for an event of `job` from now on (it may be async, e.g. a query of
 * the sink's table); rejects naming `what` when the job ends first.
 *
 * @example await nextEvent(job, 'checkpoint', (c) => c.status === 'COMPLETED', 'a checkpoint completed');
 */
export function nextEvent(job: JobHandle, event: 'checkpoint', accept: (stats: CheckpointStats) => boolean | Promise<boolean>, what: string): Promise<void>;
export function nextEvent(job: JobHandle, event: 'status', accept: (status: StatusEvent) => boolean | Promise<boolean>, what: string): Promise<void>;
export function nextEvent(job: JobHandle, event: 'checkpoint' | 'status', accept: (value: never) => boolean | Promise<boolean>, what: string): Promise<void> {
  const emitter = job as unknown as NodeJS.EventEmitter;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const listener = async (value: unknown) => {
      if (settled) return;
      let ok: boolean;
      try {
        ok = await accept(value as never);
      } catch (error) {
        settle(() => reject(error));
        return;
      }
      if (ok) settle(resolve);
    };
    const settle = (then: () => void) => {
      if (settled) return;
      settled = true;
      emitter.off(event, listener);
      then();
    };
    emitter.on(event, listener);
    job.done.then(
      (r) => settle(() => reject(new Error(`job ended ${r.status} before ${what}`))),
      (e: unknown) => settle(() => reject(new Error(`job failed before ${what}: ${String(e)}`))),
    );
  });
}
