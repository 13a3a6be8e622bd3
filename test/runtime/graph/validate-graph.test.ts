// validateGraph: every rejected graph names the option or operator at fault.
import { describe, expect, it } from 'vitest';
import { JobConfigError } from '../../../src/runtime/errors.ts';
import { validateGraph } from '../../../src/runtime/graph/validate-graph.ts';
import type { JobGraph, Source } from '../../../src/runtime/types.ts';
import { fwd, graph, hash, rebalance, testSource } from '../fixtures.ts';

function configError(g: JobGraph): JobConfigError {
  try {
    validateGraph(g);
  } catch (error) {
    expect(error).toBeInstanceOf(JobConfigError);
    return error as JobConfigError;
  }
  throw new Error('graph was accepted');
}

describe('validateGraph', () => {
  it('accepts a well-formed keyed pipeline', () => {
    expect(() =>
      validateGraph(graph([{ parallelism: 2 }, { parallelism: 2, inputs: [fwd(0)] }, { parallelism: 4, inputs: [hash(1)], keyed: true }, { kind: 'sink', inputs: [rebalance(2)] }])),
    ).not.toThrow();
  });

  it('names a duplicated uid', () => {
    const error = configError(graph([{ uid: 'src' }, { uid: 'count', inputs: [fwd(0)] }, { uid: 'count', inputs: [fwd(1)] }]));
    expect(error.option).toContain('count');
    expect(error.message).toContain('count');
  });

  it.each([0, -1, 1.5])('rejects parallelism %s naming the operator', (parallelism) => {
    const error = configError(graph([{}, { uid: 'mapper', parallelism, inputs: [fwd(0)] }]));
    expect(error.option).toContain('parallelism');
    expect(error.option).toContain('mapper');
  });

  it('rejects a keyed operator wider than maxParallelism but accepts one exactly as wide', () => {
    const error = configError(graph([{ parallelism: 1 }, { uid: 'agg', parallelism: 9, inputs: [hash(0)], keyed: true }], 8));
    expect(error.option).toContain('agg');
    expect(error.option).toContain('parallelism');
    expect(error.message).toContain('maxParallelism 8');
    expect(() => validateGraph(graph([{}, { parallelism: 8, inputs: [hash(0)], keyed: true }], 8))).not.toThrow();
    // not keyed: no such limit
    expect(() => validateGraph(graph([{}, { parallelism: 9, inputs: [rebalance(0)] }], 8))).not.toThrow();
  });

  it.each([0, -1, 32769, 1.5, Number.NaN])('rejects maxParallelism %s', (maxParallelism) => {
    expect(configError(graph([{}], maxParallelism)).option).toBe('maxParallelism');
  });

  it('accepts the maxParallelism bounds 1 and 32768', () => {
    expect(() => validateGraph(graph([{}], 1))).not.toThrow();
    expect(() => validateGraph(graph([{}], 32768))).not.toThrow();
  });

  it('rejects a graph without a source, and an empty graph', () => {
    expect(configError(graph([{ kind: 'operator' }, { kind: 'sink', inputs: [fwd(0)] }])).option).toBe('job');
    expect(configError(graph([])).option).toBe('job');
  });

  it('rejects a keyed node whose input is not hash partitioned', () => {
    const error = configError(graph([{}, { uid: 'window', inputs: [rebalance(0)], keyed: true }]));
    expect(error.option).toContain('window');
    expect(error.message).toContain('keyBy');
    const union = configError(graph([{}, { kind: 'source' }, { uid: 'joined', inputs: [hash(0), fwd(1)], keyed: true }]));
    expect(union.option).toContain('joined');
  });

  it('rejects an operator without input or with an input defined after it', () => {
    expect(configError(graph([{}, { uid: 'orphan' }])).option).toContain('orphan');
    expect(configError(graph([{}, { uid: 'early', inputs: [fwd(2)] }, { inputs: [fwd(0)] }])).option).toContain('early');
  });

  it("runs the source's own validation and enforces its parallelism cap", () => {
    const g = graph([{ uid: 'elements', parallelism: 2 }]);
    const capped: Source<unknown> = { ...testSource, kind: 'elements', maxSourceParallelism: 1 };
    const error = configError({ ...g, nodes: [{ ...g.nodes[0], source: capped }] });
    expect(error.option).toContain('elements');
    const failing: Source<unknown> = {
      ...testSource,
      validate() {
        throw new JobConfigError('path', 'missing');
      },
    };
    expect(configError({ ...g, nodes: [{ ...g.nodes[0], source: failing }] }).option).toBe('path');
  });
});
