// Kill tests: end a worker thread abruptly, once, at a moment the test chooses (a file appears).
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/**
 * A map stage that ends its worker thread once file `when` exists, once: the marker, created
 * exclusively, makes later attempts (and other threads) pass. Checked every `every` records and, in
 * worker threads, every 2 ms, so it also lands while the input waits. The test decides the moment
 * (write `when` on an event), never a timer.
 *
 * @example numbers.map(crashOnceWhen(p.crashWhenFile, p.crashMarker)).setParallelism(1).uid('crash')
 */
export function crashOnceWhen<T = number>(when: string, marker: string, every = 64): (value: T) => T {
  const crash = () => {
    if (!existsSync(when) || existsSync(marker)) return;
    try {
      closeSync(openSync(marker, 'wx'));
    } catch {
      return;
    }
    writeFileSync(marker, 'crashed');
    process.exit(17);
  };
  if (!isMainThread) setInterval(crash, 2).unref();
  let seen = 0;
  return (value) => {
    if (++seen % every === 0) crash();
    return value;
  };
}
