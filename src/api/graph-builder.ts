// Records the operators a job definition creates, in creation order, as a JobGraph.
import type { GraphInput, GraphNode, NodeKind, OperatorFactory, Sink, Source } from '../runtime/types.ts';

export interface NodeSpec {
  readonly kind: NodeKind;
  readonly type: string;
  readonly name?: string;
  readonly inputs: readonly GraphInput[];
  readonly keyed?: boolean;
  readonly source?: Source<unknown>;
  readonly operator?: OperatorFactory;
  readonly sink?: Sink<unknown>;
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];

  constructor(readonly defaultParallelism: number) {}

  add(spec: NodeSpec): GraphNode {
    const id = this.nodes.length;
    const node: GraphNode = {
      id,
      kind: spec.kind,
      type: spec.type,
      name: spec.name ?? spec.type,
      // Derived from position so every thread derives the same uid for the same job code.
      uid: `${spec.type}-${id}`,
      uidExplicit: false,
      parallelism: this.defaultParallelism,
      parallelismExplicit: false,
      inputs: spec.inputs,
      keyed: spec.keyed ?? false,
      source: spec.source,
      operator: spec.operator,
      sink: spec.sink,
    };
    this.nodes.push(node);
    return node;
  }
}
