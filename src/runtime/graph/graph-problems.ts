// Everything wrong with a job graph, collected rather than thrown at the first: `validateGraph`
// throws the first problem before a job starts, `baton check` reports them all.
import { MAX_MAX_PARALLELISM } from '../../state/index.ts';
import { JobConfigError } from '../errors.ts';
import type { GraphNode, JobGraph } from '../types.ts';

/**
 * The problems of a graph, in the order `validateGraph` meets them; each names the option or
 * operator at fault. A source's or sink's own `validate()` reports its first bad option.
 *
 * @example
 * for (const problem of findGraphProblems(graph)) console.error(problem.message);
 */
export function findGraphProblems(graph: JobGraph): JobConfigError[] {
  const { nodes, maxParallelism } = graph;
  const problems: JobConfigError[] = [];
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
    problems.push(new JobConfigError('maxParallelism', `must be an integer in [1, ${MAX_MAX_PARALLELISM}], got ${maxParallelism}`));
  }
  if (nodes.length === 0) return [...problems, new JobConfigError('job', 'the job defines no operators (call env.fromSource(...) and sinkTo(...))')];
  if (!nodes.some((n) => n.kind === 'source')) problems.push(new JobConfigError('job', 'the job has no source'));

  const byUid = new Map<string, string>();
  for (const node of nodes) {
    const previous = byUid.get(node.uid);
    if (previous !== undefined) {
      problems.push(new JobConfigError(`uid '${node.uid}'`, `is used by two operators (${previous} and ${node.name}); uids must be unique`));
    }
    byUid.set(node.uid, node.name);
  }
  for (const node of nodes) problems.push(...nodeProblems(node, maxParallelism));
  return problems;
}

function nodeProblems(node: GraphNode, maxParallelism: number): JobConfigError[] {
  const problems: JobConfigError[] = [];
  if (!Number.isInteger(node.parallelism) || node.parallelism < 1) {
    problems.push(new JobConfigError(`parallelism of operator '${node.uid}'`, `must be an integer >= 1, got ${node.parallelism}`));
  }
  if (node.keyed && node.parallelism > maxParallelism) {
    problems.push(
      new JobConfigError(
        `parallelism of operator '${node.uid}'`,
        `${node.parallelism} exceeds maxParallelism ${maxParallelism} (a keyed operator needs at least one key group per subtask)`,
      ),
    );
  }
  if (node.kind === 'source') {
    if (!node.source) {
      problems.push(new JobConfigError(`source '${node.uid}'`, 'has no source'));
    } else {
      collect(problems, () => node.source?.validate());
      const cap = node.source.maxSourceParallelism;
      if (cap !== undefined && node.parallelism > cap) {
        problems.push(new JobConfigError(`parallelism of source '${node.uid}'`, `${node.source.kind} sources run with at most ${cap} subtask(s), got ${node.parallelism}`));
      }
    }
  } else {
    if (node.inputs.length === 0) problems.push(new JobConfigError(`operator '${node.uid}'`, 'has no input'));
    if (node.inputs.some((input) => !(input.nodeId < node.id))) {
      problems.push(new JobConfigError(`operator '${node.uid}'`, 'has an input defined after it (cycles are not supported)'));
    }
  }
  if (node.kind === 'sink') collect(problems, () => node.sink?.validate());
  if (node.kind === 'sink') collect(problems, () => node.shadowSink?.validate());
  // A keyed broadcast operator's second input is broadcast (rules every subtask sees), not keyed.
  if (node.keyed && node.inputs.some((i) => i.partitioning !== 'hash' && !(i.second && i.partitioning === 'broadcast'))) {
    problems.push(new JobConfigError(`operator '${node.uid}'`, 'is keyed but its input is not partitioned by keyBy'));
  }
  return problems;
}

/** Runs a source's or sink's own validation; its JobConfigError is a problem, anything else a defect that propagates. */
function collect(problems: JobConfigError[], validate: () => void): void {
  try {
    validate();
  } catch (error) {
    if (!(error instanceof JobConfigError)) throw error;
    problems.push(error);
  }
}
