// JobHandle.stop: a misspelled option or mode is refused, never taken for the default.
import { describe, expect, it } from 'vitest';
import { JobHandle } from '../../../src/runtime/coordinator/job-handle.ts';
import { JobConfigError, UnknownOptionError } from '../../../src/runtime/errors.ts';

function handle(): { job: JobHandle; modes: string[] } {
  const job = new JobHandle('orders');
  const modes: string[] = [];
  job.attach({
    stop: (mode) => {
      modes.push(mode);
      return Promise.reject(new Error('stopped'));
    },
    cancel: () => Promise.resolve(),
    liveWorkerThreads: () => 0,
    requestCheckpoint: () => Promise.resolve(undefined),
  });
  return { job, modes };
}

describe('JobHandle.stop', () => {
  it('names an unknown option and a bad mode, and stops nothing', async () => {
    const { job, modes } = handle();
    await expect(job.stop({ mod: 'terminate' } as never)).rejects.toSatisfy((e) => e instanceof UnknownOptionError && e.option === 'stop mod' && e.suggestion === 'mode');
    await expect(job.stop({ mode: 'terminated' } as never)).rejects.toSatisfy((e) => e instanceof JobConfigError && e.option === 'stop mode');
    expect(modes).toEqual([]);
    await expect(job.stop({ mode: 'terminate' })).rejects.toThrow('stopped');
    expect(modes).toEqual(['terminate']);
  });
});
