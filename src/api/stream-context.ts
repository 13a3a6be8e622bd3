// What every stream of one job shares: the graph being built and the environment's settings.
import type { JobConfig } from '../runtime/types.ts';
import type { GraphBuilder } from './graph-builder.ts';

export interface StreamContext {
  readonly graph: GraphBuilder;
  readonly config: JobConfig;
}
