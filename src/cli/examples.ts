// Where the package's example jobs are, whether the CLI runs from src/cli/ or from a chunk in dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BatonInternalError } from '../errors/index.ts';

/** The folder of baton's own package.json, found upwards from this file (its depth differs between src/ and dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'baton') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new BatonInternalError(`baton's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The URL of one of the package's example jobs (`examples/<name>.ts`, shipped with the package).
 *
 * @example const job = exampleJob('clickstream');
 */
export function exampleJob(name: 'clickstream' | 'orders' | 'redis-postgres/job'): URL {
  return pathToFileURL(join(packageRoot(), 'examples', `${name}.ts`));
}
