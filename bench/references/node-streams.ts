// Reference: keyed count as an idiomatic object-mode Node.js stream.pipeline (source -> map -> key+count -> sink).
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checksumTerm, keyOf, mapRecord } from '../workload.ts';

interface KeyedCount {
  key: number;
  count: number;
}

/** Run the pipeline over records 0..n-1 and resolve with the sink's checksum. */
export async function runNodeStreams(n: number): Promise<number> {
  let next = 0;
  const source = new Readable({
    objectMode: true,
    read() {
      while (next < n) {
        if (!this.push(next++)) return;
      }
      this.push(null);
    },
  });

  const map = new Transform({
    objectMode: true,
    transform(record: number, _encoding, callback) {
      callback(null, mapRecord(record));
    },
  });

  const counts = new Map<number, number>();
  const keyCount = new Transform({
    objectMode: true,
    transform(v: number, _encoding, callback) {
      const key = keyOf(v);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      const out: KeyedCount = { key, count };
      callback(null, out);
    },
  });

  let checksum = 0;
  const sink = new Writable({
    objectMode: true,
    write(record: KeyedCount, _encoding, callback) {
      checksum += checksumTerm(record.key, record.count);
      callback();
    },
  });

  await pipeline(source, map, keyCount, sink);
  return checksum;
}
