// The connector API is public: every value the built-in connectors take from baton (through
// src/connectors/connector-api.ts, their only import from the rest of baton) is exported by 'baton' itself.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/connectors/connector-api.ts';
import * as baton from '../../src/index.ts';

const connectors = fileURLToPath(new URL('../../src/connectors/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('connector API', () => {
  it("exports only values 'baton' exports too", () => {
    for (const [name, value] of Object.entries(api)) expect((baton as Record<string, unknown>)[name], name).toBe(value);
  });

  it('is the only way connectors reach the rest of baton', () => {
    const offenders: string[] = [];
    for (const file of files(connectors)) {
      if (file.endsWith('connector-api.ts')) continue;
      for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = relative(connectors, join(file, '..', match[1]));
        // Inside a connector's own folder, or the connector API.
        if (target.startsWith('..') || (target.split('/').length === 1 && target !== 'connector-api.ts')) offenders.push(`${relative(connectors, file)} → ${match[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
