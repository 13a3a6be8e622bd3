// The layers of DESIGN.md hold: api → runtime → (state, checkpoint); state and checkpoint never import upward;
// metrics sits beside the runtime and nothing below it imports metrics.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const folders: string[] = [];
  for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
    const target = relative(src, join(file, '..', match[1]));
    folders.push(target.split('/')[0]);
  }
  return folders;
}

const FORBIDDEN: Record<string, readonly string[]> = {
  state: ['api', 'runtime', 'checkpoint', 'handover', 'cli', 'metrics'],
  checkpoint: ['api', 'runtime', 'handover', 'cli', 'metrics'],
  runtime: ['api', 'handover', 'cli', 'metrics'],
  errors: ['api', 'runtime', 'state', 'checkpoint', 'handover', 'cli', 'metrics'],
  // Metrics observe running jobs (runtime, checkpoint); the jobs never depend on being observed.
  metrics: ['api', 'handover', 'cli'],
  // Connectors (Redis Streams, PostgreSQL) are written against the connector API only; api offers them as Sources./Sinks.
  connectors: ['api', 'handover', 'cli', 'metrics', 'state', 'testing'],
};

describe('layering', () => {
  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`src/${layer} imports none of ${forbidden.join(', ')}`, () => {
      const offenders = files(join(src, layer)).flatMap((file) =>
        importedFolders(file)
          .filter((folder) => forbidden.includes(folder))
          .map((folder) => `${relative(src, file)} → ${folder}`),
      );
      expect(offenders).toEqual([]);
    });
  }
});
