// Which checkpoint state each worker thread restores: every restore path (plain, restart, handover) passes here.
import { planRestore } from '../../checkpoint/restore/plan-restore.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import { JobConfigError } from '../errors.ts';
import type { ExecutionPlan, JobGraph } from '../types.ts';
import type { OperatorRestore, WorkerRestore } from '../worker/protocol.ts';
import { checkRestoreAgainstJob } from './restore-checks.ts';

/**
 * Checks `metadata` against the job (nothing read from storage reaches a worker unchecked) and
 * splits it into what each worker restores: keyed chains, operator state, source splits and, for
 * an unaligned checkpoint, the channel state of the same subtasks.
 *
 * @example const perWorker = planWorkerRestores(metadata, { graph, plan, allowNonRestoredState: false, jobDir });
 */
export function planWorkerRestores(
  metadata: CheckpointMetadata,
  job: { readonly graph: JobGraph; readonly plan: ExecutionPlan; readonly allowNonRestoredState: boolean; readonly jobDir: string | undefined },
): WorkerRestore[] {
  const { graph, plan } = job;
  // Every restore path (plain, restart, handover) passes here: nothing read from storage reaches a worker unchecked.
  checkRestoreAgainstJob(graph, job.jobDir)(metadata);
  const sourceUids = new Set(plan.tasks.filter((t) => t.isSource).map((t) => t.operators[0].uid));
  const targets = graph.nodes.map((n) => ({ uid: n.uid, parallelism: n.parallelism, keyed: n.keyed, isSource: sourceUids.has(n.uid) }));
  const restorePlan = planRestore(metadata, targets, plan.maxParallelism, job.allowNonRestoredState);
  const perWorker: OperatorRestore[][] = Array.from({ length: plan.workers }, () => []);
  for (const [uid, subtasks] of restorePlan) {
    subtasks.forEach((s, subtaskIndex) => {
      perWorker[subtaskIndex].push({ uid, subtaskIndex, chains: s.chains, states: s.states, splits: s.splits });
    });
  }
  // In-flight data is tied to channels: it restores only where the subtasks are the same.
  const refs = metadata.channelState ?? [];
  const taskHeads = new Set(plan.tasks.map((t) => t.operators[0].uid));
  for (const ref of refs) {
    const saved = metadata.operators.find((o) => o.uid === ref.uid);
    const now = graph.nodes.find((n) => n.uid === ref.uid);
    // Replayed only into the task that begins with this operator: anywhere else the records would be dropped unseen.
    if (now && !taskHeads.has(ref.uid)) {
      throw new JobConfigError(
        'restoreFrom',
        `checkpoint ${metadata.checkpointId} is unaligned and holds in-flight data of operator '${ref.uid}', which no longer begins a task (the job's chaining changed): restore it with the job's previous shape, or from an aligned checkpoint`,
      );
    }
    if (saved && now && saved.parallelism !== now.parallelism) {
      throw new JobConfigError(
        'restoreFrom',
        `checkpoint ${metadata.checkpointId} is unaligned (it holds in-flight data) and operator '${ref.uid}' had parallelism ${saved.parallelism}, now ${now.parallelism}: restore unaligned checkpoints at the same parallelism`,
      );
    }
  }
  return perWorker.map((operators, workerIndex) => ({
    checkpointId: metadata.checkpointId,
    operators,
    channelState: refs.filter((r) => r.subtaskIndex === workerIndex),
  }));
}
