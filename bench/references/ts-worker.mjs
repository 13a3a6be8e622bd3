// Worker-thread bootstrap: registers tsx in this thread (Node 20 does not apply --import hooks to a worker's .ts entry), then loads workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
