// runJob with everything above the runtime plugged in: reference data for hooks, and deployment B's handover.
import type { JobHandle } from '../runtime/index.ts';
import type { RunExtensions } from '../runtime/coordinator/job-runner.ts';
import type { RunJobOptions } from '../runtime/index.ts';
import type { GuardReport } from './shadow/index.ts';

/**
 * Starts a job defined by `export default defineJob(...)` in `moduleUrl`. With `handover`, the job
 * is deployment B: it preloads state while the job running on the same directory goes on, and
 * takes over at the target checkpoint. Resolves once the job is validated and planned.
 *
 * @example
 * const b = await runJob(new URL('./job.ts', import.meta.url), {
 *   jobId: 'orders', checkpointStorage: 's3://ckpt/prod', handover: { targetCheckpoint: 117, timeoutMs: 60_000 },
 * });
 * console.log((await b.done).handover?.downtimeMs);
 */
export async function runJob(moduleUrl: string | URL, options: RunJobOptions = {}): Promise<JobHandle> {
  const [{ runJob: runRuntimeJob }, extensions] = await Promise.all([import('../runtime/coordinator/job-runner.ts'), handoverExtensions(options)]);
  return runRuntimeJob(moduleUrl, options, extensions);
}

/**
 * What runJob plugs into the runtime: reference data for hooks, answers to stop requests (a
 * handover's predecessor side) and deployment B's start sequence. baton/testing uses the same.
 */
export async function handoverExtensions(options: Pick<RunJobOptions, 's3'>): Promise<RunExtensions> {
  // Loaded on the first call, not with the package: worker threads import the package through
  // their job modules and never run a job themselves (see src/index.ts).
  const [{ StopRequestShell }, { ReferenceDataCache }, { HandoverSuccessor }, { ShadowSuccessor, checkpointGuard }] = await Promise.all([
    import('./predecessor/index.ts'),
    import('./reference-data/index.ts'),
    import('./successor/index.ts'),
    import('./shadow/index.ts'),
  ]);
  // One cache per job: every worker (and every restart) shares one copy of each object.
  const cache = new ReferenceDataCache({ s3: options.s3 });
  return {
    referenceData: (uri, onProgress) => cache.load(uri, onProgress),
    // Every job answers stop requests: an operator's, or a handover successor's (then it may stand by and roll back).
    stopRequests:
      ({ options: resolved }) =>
      (control) =>
        new StopRequestShell(control, { pollMs: resolved.stopRequestPollMs, handoverPollMs: resolved.handoverPollMs }),
    startSequence: ({ handle, jobStorage, options: resolved }) => {
      const handover = resolved.handover!;
      const hooksStartedAt = () => handle.statusHistory.findLast((e) => e.status === 'RUNNING_PRE_STATE_HOOKS')?.at;
      if (handover.mode === 'shadow') {
        const options = {
          ...handover,
          promoteAfterMs: handover.shadow.promoteAfterMs,
          sampleEveryMs: handover.shadow.sampleEveryMs,
          onGuardTimeout: handover.onGuardTimeout ?? 'abort',
        };
        return new ShadowSuccessor(jobStorage, options, handle.runId, (event) => handle.emit('handover', event), hooksStartedAt, (uri) => cache.loaded(uri));
      }
      // The guard's verdict is reported like B's other steps, with what B measured so far.
      let successor: InstanceType<typeof HandoverSuccessor> | undefined;
      const report = (event: GuardReport) => handle.emit('handover', { ...event, metrics: successor!.metrics() });
      const guard = checkpointGuard(handover, { storage: jobStorage, jobId: handle.jobId, referenceData: (uri) => cache.loaded(uri), report });
      successor = new HandoverSuccessor(jobStorage, handover, handle.runId, (event) => handle.emit('handover', event), hooksStartedAt, undefined, guard);
      return successor;
    },
  };
}
