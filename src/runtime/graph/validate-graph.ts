// Checks a job graph before anything starts; every error names the operator or option at fault.
import type { JobGraph } from '../types.ts';
import { findGraphProblems } from './graph-problems.ts';

/** Throws the first problem `findGraphProblems` finds (a JobConfigError), so a bad job never starts. */
export function validateGraph(graph: JobGraph): void {
  const [first] = findGraphProblems(graph);
  if (first) throw first;
}
