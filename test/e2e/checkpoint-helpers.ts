// Helpers of the checkpoint tests: the expected output of checkpointed-sum and reading committed files.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Every line an uninterrupted run of checkpointed-sum commits, sorted. */
export function expectedSums(to: number, keys = 7): string[] {
  const sums = new Map<number, number>();
  const lines: string[] = [];
  for (let n = 1; n <= to; n++) {
    const key = n % keys;
    const sum = (sums.get(key) ?? 0) + n;
    sums.set(key, sum);
    lines.push(`${key},${n},${sum}`);
  }
  return lines.sort();
}

/**
 * What one uninterrupted run of checkpointed-sum commits up to the highest record in `lines`: a
 * job stopped at a checkpoint has committed exactly such a prefix, each line once.
 */
export function expectedSumsPrefix(lines: readonly string[], keys = 7): string[] {
  let last = 0;
  for (const line of lines) last = Math.max(last, Number(line.split(',')[1]));
  return expectedSums(last, keys);
}

/** Lines of the committed (visible) part files; hidden in-progress and pending files are not output. */
export function committedLines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .sort();
}

/** A fresh job id, checkpoint storage URI and output directory under `root` for each call. */
export function jobDirs(root: string): (name: string) => { storage: string; output: string; dir: string; jobId: string } {
  let counter = 0;
  return (name) => {
    counter++;
    const dir = join(root, `${name}-${counter}`);
    return { storage: pathToFileURL(join(dir, 'checkpoints')).href, output: join(dir, 'out'), dir, jobId: `${name}-${counter}` };
  };
}

/**
 * The directory a paced job (param `pacedBy`) reads its permissions from, and `ended()` to call on
 * every checkpoint that ends (of any deployment on the job): each lets the input read one segment on.
 *
 * @example
 * const pacer = checkpointPacer(join(dir, 'paced'));
 * job.on('checkpoint', pacer.ended);
 */
export function checkpointPacer(dir: string): { readonly dir: string; ended(): void } {
  mkdirSync(dir, { recursive: true });
  let count = 0;
  return {
    dir,
    ended() {
      writeFileSync(join(dir, `completed-${++count}`), '');
    },
  };
}
