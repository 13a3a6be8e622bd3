// Turns a job graph into an execution plan: operator chains (tasks), edges and channels.
import { createHash } from 'node:crypto';
import type {
  ExecutionPlan,
  GraphNode,
  JobGraph,
  Partitioning,
  PlannedChannel,
  PlannedEdge,
  PlannedTask,
} from '../types.ts';

/** A digest of the graph's shape, equal in every thread that built the same job. */
export function graphFingerprint(graph: JobGraph): string {
  const shape = graph.nodes.map((n) => [
    n.id,
    n.kind,
    n.type,
    n.uid,
    n.parallelism,
    n.keyed,
    n.inputs.map((i) => {
      const shape: unknown[] = i.sideOutput === undefined ? [i.nodeId, i.partitioning] : [i.nodeId, i.partitioning, i.sideOutput];
      // Only two-input nodes add it: the fingerprints of every other graph stay as they were.
      if (i.second) shape.push('second');
      return shape;
    }),
  ]);
  return createHash('sha256').update(JSON.stringify([graph.maxParallelism, shape, graph.hooks.map((h) => h.name)])).digest('hex').slice(0, 16);
}

function consumerCounts(nodes: readonly GraphNode[]): number[] {
  const counts = new Array<number>(nodes.length).fill(0);
  // Side outputs are separate streams: reading one does not stop a node chaining to its main consumer.
  for (const node of nodes) for (const input of node.inputs) if (input.sideOutput === undefined) counts[input.nodeId]++;
  return counts;
}

/** Like Flink: chain b to its input a when nothing crosses a partition boundary between them. */
export function canChain(a: GraphNode, b: GraphNode, consumers: readonly number[]): boolean {
  return (
    b.kind !== 'source' &&
    b.inputs.length === 1 &&
    b.inputs[0].nodeId === a.id &&
    b.inputs[0].partitioning === 'forward' &&
    b.inputs[0].sideOutput === undefined &&
    a.parallelism === b.parallelism &&
    consumers[a.id] === 1
  );
}

export function planJob(graph: JobGraph): ExecutionPlan {
  const { nodes } = graph;
  const consumers = consumerCounts(nodes);
  const taskOfNode = new Array<number>(nodes.length).fill(-1);
  const chains: GraphNode[][] = [];

  for (const node of nodes) {
    const input = node.inputs.length === 1 ? nodes[node.inputs[0].nodeId] : undefined;
    if (input && canChain(input, node, consumers)) {
      const taskId = taskOfNode[input.id];
      chains[taskId].push(node);
      taskOfNode[node.id] = taskId;
    } else {
      taskOfNode[node.id] = chains.length;
      chains.push([node]);
    }
  }

  const edges: PlannedEdge[] = [];
  const inputsOf: PlannedEdge[][] = chains.map(() => []);
  const outputsOf: PlannedEdge[][] = chains.map(() => []);
  chains.forEach((chain, taskId) => {
    const head = chain[0];
    head.inputs.forEach((input, inputIndex) => {
      const from = taskOfNode[input.nodeId];
      let partitioning: Partitioning = input.partitioning;
      if (partitioning === 'forward' && nodes[input.nodeId].parallelism !== head.parallelism) partitioning = 'rebalance';
      const edge: PlannedEdge = {
        id: edges.length,
        from,
        to: taskId,
        partitioning,
        keyNodeId: partitioning === 'hash' ? head.id : undefined,
        inputIndex,
        fromNodeId: input.nodeId,
        ...(input.sideOutput !== undefined ? { sideOutput: input.sideOutput } : {}),
      };
      edges.push(edge);
      inputsOf[taskId].push(edge);
      outputsOf[from].push(edge);
    });
  });

  const tasks: PlannedTask[] = chains.map((chain, id) => ({
    id,
    name: chain.map((n) => n.name).join(' -> '),
    parallelism: chain[0].parallelism,
    operators: chain.map((n) => ({ nodeId: n.id, uid: n.uid, name: n.name, type: n.type })),
    isSource: chain[0].kind === 'source',
    keyed: chain[0].keyed,
    inputs: inputsOf[id],
    outputs: outputsOf[id],
  }));

  const channels = planChannels(tasks, edges);
  const workers = Math.max(...tasks.map((t) => t.parallelism));
  return { tasks, channels, workers, maxParallelism: graph.maxParallelism, fingerprint: graphFingerprint(graph) };
}

/**
 * Forward edges get one channel per subtask pair i→i; others connect every producer subtask to
 * every consumer subtask. A consumer numbers its input channels by edge, then producer subtask,
 * so the numbering is the same in every thread (channel state will rely on it).
 */
export function planChannels(tasks: readonly PlannedTask[], edges: readonly PlannedEdge[]): PlannedChannel[] {
  const channels: PlannedChannel[] = [];
  const nextInputIndex = new Map<string, number>();
  for (const edge of edges) {
    const producer = tasks[edge.from];
    const consumer = tasks[edge.to];
    for (let to = 0; to < consumer.parallelism; to++) {
      const fromSubtasks = edge.partitioning === 'forward' ? [to] : range(producer.parallelism);
      for (const from of fromSubtasks) {
        const key = `${consumer.id}/${to}`;
        const inputChannelIndex = nextInputIndex.get(key) ?? 0;
        nextInputIndex.set(key, inputChannelIndex + 1);
        channels.push({
          id: channels.length,
          edgeId: edge.id,
          fromTask: producer.id,
          fromSubtask: from,
          toTask: consumer.id,
          toSubtask: to,
          inputChannelIndex,
          outputChannelIndex: edge.partitioning === 'forward' ? 0 : to,
        });
      }
    }
  }
  return channels;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
