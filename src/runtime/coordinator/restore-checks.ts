// Checks a checkpoint against the job about to restore it: every sink state and source split read
// from storage is what that sink or source could have written, before any worker touches it.
import { HostileCheckpointError } from '../../checkpoint/index.ts';
import { metadataKey } from '../../checkpoint/index.ts';
import { firstStoredProblem, type StoredValueProblem, storedCheck } from '../../checkpoint/restore/stored-values.ts';
import type { CheckpointMetadata } from '../../checkpoint/index.ts';
import type { GraphNode, JobGraph } from '../types.ts';

/** The first problem of a source's saved state `{ splits }`, each split checked by the source. */
function sourceStateProblem(node: GraphNode, state: unknown): StoredValueProblem | undefined {
  if (state === undefined || state === null) return undefined;
  const splits = (state as { splits?: unknown }).splits;
  const problem = storedCheck('.splits', typeof state === 'object' && Array.isArray(splits), 'a source state { splits: [...] }', splits);
  if (problem !== undefined) return problem;
  const check = node.source?.checkRestoredSplit?.bind(node.source);
  if (!check) return undefined;
  const bad = firstStoredProblem(splits as unknown[], (split) => check(split));
  return bad === undefined ? undefined : { ...bad, field: `.splits${bad.field}` };
}

/**
 * Throws HostileCheckpointError (naming checkpoint, field and value) when a sink state or source
 * split in `metadata` is not one the job's sink or source accepts (see Sink.checkRestoredState,
 * Source.checkRestoredSplit). Operators the job no longer has are not checked: they are not restored.
 *
 * @example checkRestoreAgainstJob(graph, storage.uri)(metadata);
 */
export function checkRestoreAgainstJob(graph: JobGraph, jobDir?: string): (metadata: CheckpointMetadata) => void {
  const byUid = new Map(graph.nodes.map((n) => [n.uid, n]));
  return (metadata) => {
    metadata.operators.forEach((op, i) => {
      const node = byUid.get(op.uid);
      if (!node || (!node.sink?.checkRestoredState && !node.source)) return;
      op.subtasks.forEach((sub, j) => {
        const problem = node.source ? sourceStateProblem(node, sub.state) : node.sink?.checkRestoredState?.(sub.state);
        if (problem === undefined) return;
        const field = `operators[${i}].subtasks[${j}].state${problem.field}`;
        const what = node.source ? `source '${op.uid}'` : `sink '${op.uid}'`;
        throw new HostileCheckpointError(metadataKey(metadata.checkpointId), metadata.checkpointId, field, problem.value, `${problem.expected}, for ${what}`, jobDir);
      });
    });
  };
}
