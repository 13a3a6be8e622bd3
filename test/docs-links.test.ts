// Every relative link in README.md and docs/*.md resolves inside the repository: a clone has no
// ../shared, and a renamed file or heading must not leave a dead link behind.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Markdown link targets `[text](target)`, outside fenced code blocks; absolute URLs excluded. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped (not `-` or `_`), spaces to `-`. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const prose = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...prose.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchor(m[1])));
}

describe('links in README.md and docs/', () => {
  it('finds the documents and the links to check', () => {
    expect(documents).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/checkpoint-format.md', 'docs/handover-protocol.md']));
    expect(relativeLinks(readFileSync(join(root, 'README.md'), 'utf8'))).toEqual(expect.arrayContaining(['docs/architecture.md']));
  });

  for (const document of documents) {
    it(`${document}: every relative link points at a file (and heading) inside the repository`, () => {
      const source = join(root, document);
      const dead = relativeLinks(readFileSync(source, 'utf8')).filter((target) => {
        const [path, fragment] = target.split('#') as [string, string | undefined];
        const file = path === '' ? source : resolve(dirname(source), decodeURIComponent(path));
        if (relative(root, file).startsWith('..') || !existsSync(file)) return true;
        if (fragment === undefined || !statSync(file).isFile() || !file.endsWith('.md')) return false;
        return !anchorsOf(file).has(fragment);
      });
      expect(dead).toEqual([]);
    });
  }
});
