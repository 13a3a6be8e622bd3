// Counters user functions register through `ctx.metrics`: kept in the operator's metrics of its
// subtask, so they travel with recordsIn/recordsOut into the job's progress and result.
import { JobConfigError } from '../errors.ts';
import type { OperatorContext, OperatorMetrics } from '../types.ts';
import type { Counter, MetricGroup } from './types.ts';

class OperatorCounter implements Counter {
  constructor(
    private readonly counters: Record<string, number>,
    private readonly name: string,
  ) {}

  inc(n = 1): void {
    this.counters[this.name] += n;
  }

  dec(n = 1): void {
    this.counters[this.name] -= n;
  }

  get count(): number {
    return this.counters[this.name];
  }
}

/**
 * The metric group of an operator subtask. Outside a subtask (no metrics in the context) the
 * counters still count, unreported.
 */
export function operatorMetricGroup(ctx: OperatorContext): MetricGroup {
  const metrics: OperatorMetrics = ctx.metrics ?? { recordsIn: 0, recordsOut: 0 };
  const handles = new Map<string, Counter>();
  return {
    counter(name) {
      if (typeof name !== 'string' || name.length === 0) throw new JobConfigError(`metrics counter of operator '${ctx.uid}'`, 'the name must be a non-empty string');
      let handle = handles.get(name);
      if (handle === undefined) {
        metrics.counters ??= {};
        metrics.counters[name] ??= 0;
        handle = new OperatorCounter(metrics.counters, name);
        handles.set(name, handle);
      }
      return handle;
    },
  };
}
