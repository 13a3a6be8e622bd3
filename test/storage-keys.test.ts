// Storage keys of a job directory are built in one place, src/checkpoint/layout.ts: a key spelled by hand elsewhere
// (`chk-${n}/…`, `shared/…`, `handover/…`, a literal key handed to storage) drifts from what retention, sweeps and
// restores look for. Like test/layering.test.ts, this reads the sources.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const LAYOUT = 'checkpoint/layout.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

/** The code of a source line: comment lines and trailing ` // …` comments dropped (keys in prose are fine). */
function codeOf(line: string): string {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('//') || trimmed.startsWith('*') || trimmed.startsWith('/*')) return '';
  return line.replace(/\s\/\/\s.*$/, '');
}

const HAND_BUILT: ReadonlyArray<readonly [string, RegExp]> = [
  // A string or template literal that starts like a key of the job directory.
  ['key literal', /[`'"](?:shared|handover)\/|[`'"]chk-(?:\$\{[^}]*\}|[0-9]+)\/|[`'"]_(?:metadata|FAILED)[`'"]/],
  // A literal key handed straight to storage (the root, '', is not a key).
  ['literal key passed to storage', /[sS]torage\??\.(?:put|putIfAbsent|get|getRange|exists|list|listFolders|removeTemporaries)\(\s*(?:`|'[^']|"[^"])|[sS]torage\??\.delete\(\[\s*[`'"]/],
];

/** Hand-built keys in `text` (a source file), as `line: what`. */
function handBuiltKeys(text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    const code = codeOf(line);
    return HAND_BUILT.filter(([, pattern]) => pattern.test(code)).map(([what]) => `${i + 1}: ${what}: ${code.trim()}`);
  });
}

describe('storage keys', () => {
  it('are built only by src/checkpoint/layout.ts', () => {
    const offenders = files(src)
      .filter((file) => relative(src, file) !== LAYOUT)
      .flatMap((file) => handBuiltKeys(readFileSync(file, 'utf8')).map((hit) => `${relative(src, file)}:${hit}`));
    expect(offenders).toEqual([]);
  });

  it('flags the hand-built keys it is meant to catch, and not layout calls or prose', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text under test
    expect(handBuiltKeys('await this.storage.put(`chk-${checkpointId}/${file}`, bytes);')).toHaveLength(2);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text under test
    expect(handBuiltKeys('await storage.put(`shared/${u.id}`, bytes);')).toHaveLength(2);
    expect(handBuiltKeys("const keys = await storage.list('handover/');")).toHaveLength(2);
    expect(handBuiltKeys("await jobStorage.get('chk-3/_metadata');")).toHaveLength(2);
    expect(handBuiltKeys("await storage.delete(['x']);")).toHaveLength(1);
    expect(handBuiltKeys("if (name === '_metadata') return;")).toHaveLength(1);
    expect(handBuiltKeys('await this.storage.put(exclusiveKey(checkpointId, file), bytes);')).toEqual([]);
    expect(handBuiltKeys("const keys = await storage.list('');")).toEqual([]);
    expect(handBuiltKeys(' * reads `chk-<n>/_metadata` first')).toEqual([]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text under test
    expect(handBuiltKeys('out(`fenced at chk-${f.checkpointId} (${f.reason})`); // chk-7/_metadata')).toEqual([]);
  });
});
