// Two-input nodes in the graph: validation of keyed broadcast inputs, the fingerprint, chaining.
import { describe, expect, it } from 'vitest';
import { graphFingerprint, planJob } from '../../../src/runtime/graph/plan.ts';
import { findGraphProblems } from '../../../src/runtime/graph/index.ts';
import type { GraphInput } from '../../../src/runtime/types.ts';
import { fwd, graph, hash } from '../fixtures.ts';

const broadcastSecond: GraphInput = { nodeId: 1, partitioning: 'broadcast', second: true };

describe('two-input nodes', () => {
  it('a keyed node may take a broadcast second input; every other input of a keyed node must be hash', () => {
    const ok = graph([{}, { kind: 'source' }, { keyed: true, inputs: [hash(0), broadcastSecond] }, { kind: 'sink', inputs: [fwd(2)] }]);
    expect(findGraphProblems(ok)).toEqual([]);
    const broadcastFirst = graph([{}, { kind: 'source' }, { keyed: true, inputs: [{ nodeId: 0, partitioning: 'broadcast' }, { ...hash(1), second: true }] }, { kind: 'sink', inputs: [fwd(2)] }]);
    expect(findGraphProblems(broadcastFirst).map((p) => p.message)).toEqual(["invalid operator 'n2': is keyed but its input is not partitioned by keyBy"]);
    const rebalancedSecond = graph([{}, { kind: 'source' }, { keyed: true, inputs: [hash(0), { nodeId: 1, partitioning: 'rebalance', second: true }] }, { kind: 'sink', inputs: [fwd(2)] }]);
    expect(findGraphProblems(rebalancedSecond)).toHaveLength(1);
  });

  it('the second-input flag is part of the fingerprint; graphs without it keep theirs', () => {
    const union = graph([{}, { kind: 'source' }, { inputs: [fwd(0), fwd(1)] }]);
    const connected = graph([{}, { kind: 'source' }, { inputs: [fwd(0), { ...fwd(1), second: true }] }]);
    expect(graphFingerprint(union)).not.toBe(graphFingerprint(connected));
    // Without the flag, the fingerprint the code before two-input nodes computed for this graph
    // (a running job's workers and a handover compare fingerprints).
    const plain = graph([{}, { kind: 'source' }, { inputs: [fwd(0), fwd(1)] }, { inputs: [hash(2)], keyed: true }, { kind: 'sink', inputs: [fwd(3)] }]);
    expect(graphFingerprint(plain)).toBe('4518f1802dbd4b0a');
  });

  it('a two-input node heads its own task even on forward edges of equal parallelism; the operator after it chains', () => {
    const plan = planJob(graph([{}, { kind: 'source' }, { inputs: [fwd(0), { ...fwd(1), second: true }] }, { inputs: [fwd(2)] }, { kind: 'sink', inputs: [fwd(3)] }]));
    expect(plan.tasks.map((t) => t.operators.map((o) => o.uid))).toEqual([['n0'], ['n1'], ['n2', 'n3', 'n4']]);
    expect(plan.tasks[2].inputs.map((e) => [e.from, e.inputIndex])).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });
});
