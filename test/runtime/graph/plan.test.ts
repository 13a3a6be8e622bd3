// planJob: operator chaining, edge partitioning, channel numbering, worker count and fingerprint.
import { describe, expect, it } from 'vitest';
import { canChain, graphFingerprint, planJob } from '../../../src/runtime/graph/plan.ts';
import type { ExecutionPlan, JobGraph, PlannedChannel } from '../../../src/runtime/types.ts';
import { fwd, graph, hash, rebalance } from '../fixtures.ts';

function chainUids(plan: ExecutionPlan): string[][] {
  return plan.tasks.map((t) => t.operators.map((o) => o.uid));
}

function channelsInto(plan: ExecutionPlan, task: number, subtask: number): PlannedChannel[] {
  return plan.channels.filter((c) => c.toTask === task && c.toSubtask === subtask).sort((a, b) => a.inputChannelIndex - b.inputChannelIndex);
}

describe('planJob chaining', () => {
  it('chains forward edges of equal parallelism with a single consumer into one task', () => {
    const plan = planJob(
      graph([{ parallelism: 2 }, { parallelism: 2, inputs: [fwd(0)] }, { parallelism: 2, inputs: [fwd(1)] }, { kind: 'sink', parallelism: 2, inputs: [fwd(2)] }]),
    );
    expect(chainUids(plan)).toEqual([['n0', 'n1', 'n2', 'n3']]);
    expect(plan.tasks[0]).toMatchObject({ id: 0, name: 'n0 -> n1 -> n2 -> n3', parallelism: 2, isSource: true, keyed: false, inputs: [], outputs: [] });
    expect(plan.tasks[0].operators.map((o) => o.nodeId)).toEqual([0, 1, 2, 3]);
    expect(plan.channels).toEqual([]);
  });

  it('breaks the chain at keyBy (hash) and starts a keyed task', () => {
    const plan = planJob(graph([{}, { inputs: [fwd(0)] }, { inputs: [hash(1)], keyed: true }, { kind: 'sink', inputs: [fwd(2)] }]));
    expect(chainUids(plan)).toEqual([
      ['n0', 'n1'],
      ['n2', 'n3'],
    ]);
    expect(plan.tasks.map((t) => t.keyed)).toEqual([false, true]);
    expect(plan.tasks[1].inputs).toEqual([{ id: 0, from: 0, to: 1, partitioning: 'hash', keyNodeId: 2, inputIndex: 0, fromNodeId: 1 }]);
    expect(plan.tasks[0].outputs).toEqual(plan.tasks[1].inputs);
  });

  it('breaks the chain at an explicit rebalance', () => {
    const plan = planJob(graph([{}, { inputs: [rebalance(0)] }]));
    expect(chainUids(plan)).toEqual([['n0'], ['n1']]);
    expect(plan.tasks[1].inputs[0].partitioning).toBe('rebalance');
    expect(plan.tasks[1].inputs[0].keyNodeId).toBeUndefined();
  });

  it('breaks the chain on a parallelism change and turns the forward edge into rebalance', () => {
    const plan = planJob(graph([{ parallelism: 2 }, { parallelism: 3, inputs: [fwd(0)] }]));
    expect(chainUids(plan)).toEqual([['n0'], ['n1']]);
    expect(plan.tasks[1].inputs[0].partitioning).toBe('rebalance');
    // all-to-all: 2 producers x 3 consumers
    expect(plan.channels).toHaveLength(6);
  });

  it('breaks the chain at fan-out: both consumers get their own task fed by forward channels', () => {
    const plan = planJob(graph([{ parallelism: 2 }, { parallelism: 2, inputs: [fwd(0)] }, { parallelism: 2, inputs: [fwd(0)] }]));
    expect(chainUids(plan)).toEqual([['n0'], ['n1'], ['n2']]);
    expect(plan.tasks[0].outputs.map((e) => e.to)).toEqual([1, 2]);
    expect(plan.tasks[1].inputs[0].partitioning).toBe('forward');
  });

  it('does not chain a union (several inputs) even when every input is forward', () => {
    const plan = planJob(graph([{}, { kind: 'source' }, { inputs: [fwd(0), fwd(1)] }]));
    expect(chainUids(plan)).toEqual([['n0'], ['n1'], ['n2']]);
    expect(plan.tasks[2].inputs.map((e) => [e.from, e.inputIndex])).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('keeps chaining after an upstream chain break', () => {
    const plan = planJob(graph([{}, { inputs: [hash(0)], keyed: true }, { inputs: [fwd(1)] }, { inputs: [fwd(2)] }]));
    expect(chainUids(plan)).toEqual([['n0'], ['n1', 'n2', 'n3']]);
  });

  it('canChain checks each rule on its own', () => {
    const g = graph([{ parallelism: 2 }, { parallelism: 2, inputs: [fwd(0)] }]);
    const [a, b] = g.nodes;
    expect(canChain(a, b, [1, 0])).toBe(true);
    expect(canChain(a, b, [2, 0])).toBe(false);
    const other = graph([{ parallelism: 2 }, { parallelism: 1, inputs: [fwd(0)] }]);
    expect(canChain(other.nodes[0], other.nodes[1], [1, 0])).toBe(false);
    const hashed = graph([{ parallelism: 2 }, { parallelism: 2, inputs: [hash(0)] }]);
    expect(canChain(hashed.nodes[0], hashed.nodes[1], [1, 0])).toBe(false);
    const twoSources = graph([{}, { kind: 'source' }]);
    expect(canChain(twoSources.nodes[0], twoSources.nodes[1], [1, 0])).toBe(false);
  });
});

describe('planJob channels', () => {
  it('connects forward edges i -> i with output channel 0', () => {
    const plan = planJob(graph([{ parallelism: 3 }, { parallelism: 3, inputs: [fwd(0)] }, { parallelism: 3, inputs: [fwd(0)] }]));
    const edge1 = plan.channels.filter((c) => c.toTask === 1);
    expect(edge1.map((c) => [c.fromSubtask, c.toSubtask, c.inputChannelIndex, c.outputChannelIndex])).toEqual([
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [2, 2, 0, 0],
    ]);
    expect(plan.channels).toHaveLength(6);
  });

  it('connects all-to-all otherwise, outputChannelIndex being the consumer subtask', () => {
    const plan = planJob(graph([{ parallelism: 2 }, { parallelism: 3, inputs: [hash(0)], keyed: true }]));
    expect(plan.channels).toHaveLength(6);
    const pairs = plan.channels.map((c) => `${c.fromSubtask}->${c.toSubtask}`).sort();
    expect(pairs).toEqual(['0->0', '0->1', '0->2', '1->0', '1->1', '1->2']);
    for (const c of plan.channels) {
      expect(c.outputChannelIndex).toBe(c.toSubtask);
      expect(c).toMatchObject({ edgeId: 0, fromTask: 0, toTask: 1 });
    }
    expect(plan.channels.map((c) => c.id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('numbers each consumer subtask input channels 0..n-1 by edge, then producer subtask', () => {
    // union of a 2-wide source (hash) and a 3-wide source (rebalance) into a 2-wide operator, plus a forward 2-wide input
    const g = graph([
      { parallelism: 2 },
      { kind: 'source', parallelism: 3 },
      { kind: 'source', parallelism: 2 },
      { parallelism: 2, inputs: [hash(0), rebalance(1), fwd(2)] },
    ]);
    const plan = planJob(g);
    const consumer = plan.tasks.findIndex((t) => t.operators[0].uid === 'n3');
    const edges = plan.tasks[consumer].inputs.map((e) => e.id);
    for (const to of [0, 1]) {
      const inputs = channelsInto(plan, consumer, to);
      expect(inputs.map((c) => c.inputChannelIndex)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(inputs.map((c) => [edges.indexOf(c.edgeId), c.fromSubtask])).toEqual([
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
        [1, 2],
        [2, to],
      ]);
    }
  });

  it('gives every producer subtask one output channel per consumer subtask on a non-forward edge', () => {
    const plan = planJob(graph([{ parallelism: 3 }, { parallelism: 2, inputs: [rebalance(0)] }]));
    for (const from of [0, 1, 2]) {
      const outs = plan.channels.filter((c) => c.fromSubtask === from).map((c) => c.outputChannelIndex).sort();
      expect(outs).toEqual([0, 1]);
    }
  });
});

describe('planJob workers and fingerprint', () => {
  it('uses as many workers as the widest task', () => {
    const plan = planJob(graph([{ parallelism: 2 }, { parallelism: 5, inputs: [rebalance(0)] }, { kind: 'sink', parallelism: 1, inputs: [rebalance(1)] }]));
    expect(plan.workers).toBe(5);
    expect(plan.maxParallelism).toBe(128);
  });

  const build = (uid = 'map', parallelism = 2): JobGraph => graph([{ parallelism: 2 }, { uid, parallelism, inputs: [fwd(0)] }]);

  it('is equal for equal graphs built separately', () => {
    expect(graphFingerprint(build())).toBe(graphFingerprint(build()));
    expect(planJob(build()).fingerprint).toBe(graphFingerprint(build()));
    expect(graphFingerprint(build())).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes when a uid, a parallelism, the maxParallelism or a partitioning changes', () => {
    const base = graphFingerprint(build());
    expect(graphFingerprint(build('other'))).not.toBe(base);
    expect(graphFingerprint(build('map', 3))).not.toBe(base);
    expect(graphFingerprint(graph([{ parallelism: 2 }, { uid: 'map', parallelism: 2, inputs: [fwd(0)] }], 256))).not.toBe(base);
    expect(graphFingerprint(graph([{ parallelism: 2 }, { uid: 'map', parallelism: 2, inputs: [rebalance(0)] }]))).not.toBe(base);
  });
});
