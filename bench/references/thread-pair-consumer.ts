// Thread-pair worker B: decodes msgpack batches from worker A, keys and counts them, and returns a credit per batch.
import { parentPort, workerData } from 'node:worker_threads';
import { unpack } from 'msgpackr';
import { checksumTerm, keyOf } from '../workload.ts';
import type { PairWorkerData, StartMessage, WorkerToMain } from './thread-pair-protocol.ts';

if (parentPort === null) throw new Error('thread-pair-consumer must run in a worker thread');
const parent = parentPort;
const { port } = workerData as PairWorkerData;

let counts = new Map<number, number>();
let checksum = 0;
let received = 0;
let expected = 0;

function finish(): void {
  const done: WorkerToMain = { type: 'done', checksum, records: received };
  parent.postMessage(done);
}

/** Hot path, kept in its own small function so V8 optimizes it independently of the message handler. */
function countBatch(values: number[], map: Map<number, number>): number {
  const len = values.length;
  let sum = 0;
  for (let i = 0; i < len; i++) {
    const key = keyOf(values[i]);
    const count = (map.get(key) ?? 0) + 1;
    map.set(key, count);
    sum += checksumTerm(key, count);
  }
  return sum;
}

port.on('message', (msg: ArrayBuffer | StartMessage) => {
  if (msg instanceof ArrayBuffer) {
    const values: number[] = unpack(Buffer.from(msg));
    checksum += countBatch(values, counts);
    received += values.length;
    port.postMessage(1);
    if (received === expected) finish();
    return;
  }
  counts = new Map<number, number>();
  checksum = 0;
  received = 0;
  expected = msg.n;
  if (expected === 0) finish();
});

const ready: WorkerToMain = { type: 'ready' };
parent.postMessage(ready);
