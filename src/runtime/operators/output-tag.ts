// OutputTag: names a side output, a second stream an operator emits next to its main output.
import { JobConfigError } from '../errors.ts';

/**
 * Names a side output of type T. An operator emits to it with `ctx.output(tag, value)`; the job
 * reads it with `stream.getSideOutput(tag)`. Tags are equal when their ids are: use one id per
 * kind of side output in a job.
 *
 * @example
 * const rejected = new OutputTag<Order>('rejected');
 * const valid = orders.keyBy((o) => o.customer).process(new Validate(rejected)).uid('validate');
 * valid.getSideOutput(rejected).sinkTo(Sinks.file({ path: 'rejected.jsonl' })).uid('rejected-out');
 */
export class OutputTag<T> {
  declare readonly __type?: T;

  constructor(readonly id: string) {
    if (typeof id !== 'string' || id.length === 0) throw new JobConfigError('OutputTag id', 'must be a non-empty string');
  }
}
