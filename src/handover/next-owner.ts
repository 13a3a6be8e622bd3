// The handover's half of the ownership fence: only the run a stop checkpoint names may take over from it.
import { FencedError } from '../checkpoint/index.ts';
import type { CheckpointMetadata } from '../checkpoint/index.ts';

/**
 * Throws a FencedError (`not-next-owner`) when `metadata` (the checkpoint a deployment B is about
 * to take over from) names another run as its next owner: the running job stopped there for that
 * run, and a second B must not start from the same state. A checkpoint that names no next owner
 * (stopped by `stopAfterCheckpoint` or an orchestrator, or the job's final one) may be taken over
 * by whoever comes; the commit-point fence then lets only one of them commit.
 *
 * @example checkNextOwner(await readMetadata(storage, 117), handle.runId); // before stage 2
 */
export function checkNextOwner(metadata: CheckpointMetadata, runId: string): void {
  if (metadata.nextOwner === undefined || metadata.nextOwner === runId) return;
  throw new FencedError(
    metadata.checkpointId,
    runId,
    'not-next-owner',
    `the job stopped after chk-${metadata.checkpointId} for run ${metadata.nextOwner}, which takes over from it`,
  );
}
