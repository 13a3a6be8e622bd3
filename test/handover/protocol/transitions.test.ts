// The legal moves are checked by the compiler: an illegal one is a type error (checked by `npm run lint`).
import { describe, expect, it } from 'vitest';
import { initialPredecessor } from '../../../src/handover/protocol/index.ts';
import { movePredecessor } from '../../../src/handover/protocol/transitions.ts';
import type { PredecessorState } from '../../../src/handover/protocol/types.ts';

describe('handover protocol moves', () => {
  it('allow standby → running (the rollback) and reject running → standby at compile time', () => {
    const standby = { ...initialPredecessor(), phase: 'standby' } as PredecessorState & { phase: 'standby' };
    expect(movePredecessor(standby, 'running').phase).toBe('running');
    const running = initialPredecessor() as PredecessorState & { phase: 'running' };
    // @ts-expect-error A running job reaches standby only through a stop checkpoint (stopping).
    expect(movePredecessor(running, 'standby').phase).toBe('standby');
  });
});
