// Following the running job's checkpoints without claiming them: pins with a lease, vanished checkpoints skipped.
export * from './follow-or-skip.ts';
export * from './pin-lease.ts';
