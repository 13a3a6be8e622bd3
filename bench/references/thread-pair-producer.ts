// Thread-pair worker A: generates and maps records, msgpack-encodes batches and transfers them to worker B under credit flow control.
import { parentPort, workerData } from 'node:worker_threads';
import { pack } from 'msgpackr';
import { mapRecord } from '../workload.ts';
import {
  BATCH_SIZE,
  MAX_IN_FLIGHT,
  type PairWorkerData,
  type RunMessage,
  type StartMessage,
  type WorkerToMain,
} from './thread-pair-protocol.ts';

if (parentPort === null) throw new Error('thread-pair-producer must run in a worker thread');
const parent = parentPort;
const { port } = workerData as PairWorkerData;

const fullBatch: number[] = new Array<number>(BATCH_SIZE).fill(0);
// Credits persist across runs: late credits from the previous run simply top the counter back up.
let credits = MAX_IN_FLIGHT;
let next = 0;
let end = 0;

/** Hot path: generate records base..base+size-1 and map them into batch. */
function fillBatch(batch: number[], base: number, size: number): void {
  for (let i = 0; i < size; i++) batch[i] = mapRecord(base + i);
}

/** Produce and send batches while credits remain; resumes when a credit arrives. */
function pump(): void {
  while (credits > 0 && next < end) {
    const size = Math.min(BATCH_SIZE, end - next);
    const batch = size === BATCH_SIZE ? fullBatch : new Array<number>(size);
    fillBatch(batch, next, size);
    next += size;
    // pack() returns a view into msgpackr's reused internal buffer: copy into a buffer we own, then transfer it.
    const packed = pack(batch);
    const bytes = new ArrayBuffer(packed.byteLength);
    new Uint8Array(bytes).set(packed);
    credits--;
    port.postMessage(bytes, [bytes]);
  }
}

port.on('message', () => {
  credits++;
  pump();
});

parent.on('message', (msg: RunMessage) => {
  next = 0;
  end = msg.n;
  const start: StartMessage = { type: 'start', n: msg.n };
  port.postMessage(start);
  pump();
});

const ready: WorkerToMain = { type: 'ready' };
parent.postMessage(ready);
