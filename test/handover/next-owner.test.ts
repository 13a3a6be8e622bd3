// The handover's half of the fence: only the run a stop checkpoint names may take over from it.
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../src/checkpoint/errors.ts';
import { checkNextOwner } from '../../src/handover/next-owner.ts';
import { FencedError as PublicFencedError } from '../../src/index.ts';
import { makeMetadata } from '../checkpoint/metadata/fixtures.ts';

describe('checkNextOwner', () => {
  it('lets the named run take over, and anyone from a checkpoint that names no one', () => {
    expect(() => checkNextOwner(makeMetadata(8, [], { endsJob: true, nextOwner: 'run-b1' }), 'run-b1')).not.toThrow();
    expect(() => checkNextOwner(makeMetadata(8, [], { endsJob: true }), 'run-b2')).not.toThrow();
  });

  it('fences any other run with a FencedError naming the checkpoint, the run and the owner', () => {
    let error: unknown;
    try {
      checkNextOwner(makeMetadata(8, [], { endsJob: true, nextOwner: 'run-b1' }), 'run-b2');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FencedError);
    expect(error).toBeInstanceOf(PublicFencedError);
    expect(error).toMatchObject({ code: 'BATON_ERR_FENCED', checkpointId: 8, runId: 'run-b2', reason: 'not-next-owner' });
    expect((error as Error).message).toMatch(/run run-b2 is fenced at checkpoint 8 \(not-next-owner\): the job stopped after chk-8 for run run-b1/);
  });
});
