// Deployment A's side of a handover: the shell that answers stop requests (injected into the runtime by runJob).
export { type ShellClock, StopRequestShell, systemClock } from './stop-request-shell.ts';
export type { PredecessorHandoverEvent } from '../../runtime/index.ts';
