// baton: stream processing for Node.js with exactly-once checkpoints and blue/green handover.
export * from './api/index.ts';
export * from './runtime/index.ts';
export type { KeyValue, ListState, MapState, ValueState } from './state/types.ts';
