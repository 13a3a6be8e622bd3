// One start-up measurement (run by bench/startup.ts in a fresh process, plain Node: no TypeScript
// loader, as in a project that installed baton): prints {"ms": ...} as its last line.
// The runtime is the package's build (dist/, made by `npm ci` through `prepare`, or `npm run build`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runJob } from '../dist/index.js';

const [what, p] = process.argv.slice(2);
const parallelism = Number(p);

async function floor() {
  const started = performance.now();
  const workers = Array.from({ length: parallelism }, () => new Worker("require('node:worker_threads').parentPort.postMessage(1)", { eval: true }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const ms = performance.now() - started;
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

async function job(name) {
  const url = new URL(`../examples/${name}.ts`, import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'baton-startup-'));
  writeFileSync(join(dir, 'prices.bin'), new Uint8Array(64 * 1024));
  // Inputs large enough that the job is still running when RUNNING is reported.
  const orders = { priceList: pathToFileURL(join(dir, 'prices.bin')).href, output: join(dir, 'out'), orders: 1_000_000, rate: 1_000 };
  const params = name === 'orders' ? orders : { clicks: 10_000_000 };
  const checkpointStorage = pathToFileURL(join(dir, 'checkpoints')).href;
  const started = performance.now();
  const handle = await runJob(url, { parallelism, params, checkpointStorage });
  await new Promise((resolve, reject) => {
    handle.on('status', (e) => {
      if (e.status === 'RUNNING') resolve();
    });
    handle.done.then(() => reject(new Error(`${name} ended before RUNNING`)), reject);
  });
  const ms = performance.now() - started;
  await handle.cancel();
  await handle.done.catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const ms = what === 'floor' ? await floor() : await job(what);
console.log(JSON.stringify({ ms }));
process.exit(0);
