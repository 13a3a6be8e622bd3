// Checks a job graph before anything starts; every error names the operator or option at fault.
import { MAX_MAX_PARALLELISM } from '../../state/key-groups.ts';
import { JobConfigError } from '../errors.ts';
import type { JobGraph } from '../types.ts';

export function validateGraph(graph: JobGraph): void {
  const { nodes, maxParallelism } = graph;
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
    throw new JobConfigError('maxParallelism', `must be an integer in [1, ${MAX_MAX_PARALLELISM}], got ${maxParallelism}`);
  }
  if (nodes.length === 0) throw new JobConfigError('job', 'the job defines no operators (call env.fromSource(...) and sinkTo(...))');
  if (!nodes.some((n) => n.kind === 'source')) throw new JobConfigError('job', 'the job has no source');

  const byUid = new Map<string, string>();
  for (const node of nodes) {
    const previous = byUid.get(node.uid);
    if (previous !== undefined) {
      throw new JobConfigError(`uid '${node.uid}'`, `is used by two operators (${previous} and ${node.name}); uids must be unique`);
    }
    byUid.set(node.uid, node.name);
  }

  for (const node of nodes) {
    if (!Number.isInteger(node.parallelism) || node.parallelism < 1) {
      throw new JobConfigError(`parallelism of operator '${node.uid}'`, `must be an integer >= 1, got ${node.parallelism}`);
    }
    if (node.keyed && node.parallelism > maxParallelism) {
      throw new JobConfigError(
        `parallelism of operator '${node.uid}'`,
        `${node.parallelism} exceeds maxParallelism ${maxParallelism} (a keyed operator needs at least one key group per subtask)`,
      );
    }
    if (node.kind === 'source') {
      if (!node.source) throw new JobConfigError(`source '${node.uid}'`, 'has no source');
      node.source.validate();
      const cap = node.source.maxSourceParallelism;
      if (cap !== undefined && node.parallelism > cap) {
        throw new JobConfigError(`parallelism of source '${node.uid}'`, `${node.source.kind} sources run with at most ${cap} subtask(s), got ${node.parallelism}`);
      }
    } else {
      if (node.inputs.length === 0) throw new JobConfigError(`operator '${node.uid}'`, 'has no input');
      for (const input of node.inputs) {
        if (!(input.nodeId < node.id)) throw new JobConfigError(`operator '${node.uid}'`, 'has an input defined after it (cycles are not supported)');
      }
    }
    if (node.kind === 'sink') node.sink?.validate();
    if (node.keyed && node.inputs.some((i) => i.partitioning !== 'hash')) {
      throw new JobConfigError(`operator '${node.uid}'`, 'is keyed but its input is not partitioned by keyBy');
    }
  }
}
